// UTF-16LE text as BCD stores it in REG_SZ values and in device file paths: code units little-endian,
// ended by a NUL code unit (MS-RRP 2.2.6 / the registry's REG_SZ; BCD device file path records).

/** `text` as UTF-16LE with a terminating NUL. */
export function utf16z(text: string): Uint8Array {
  const out = new Uint8Array((text.length + 1) * 2);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < text.length; i++) dv.setUint16(i * 2, text.charCodeAt(i), true);
  return out;
}

/** The text up to the first NUL code unit (all of it when there is none; an odd last byte is ignored). */
export function readUtf16z(bytes: Uint8Array): string {
  let end = 0;
  while (end + 1 < bytes.length && (bytes[end] !== 0 || bytes[end + 1] !== 0)) end += 2;
  return new TextDecoder('utf-16le').decode(bytes.subarray(0, end));
}
