// UTF-16LE text as Windows stores it (registry strings, BCD paths, INF and .reg files, unattend
// passwords): little-endian code units, lone surrogates kept as they are.

/** UTF-16LE code units of `s`, lone surrogates kept as they are. */
export function utf16leBytes(s: string, extraNuls = 0): Uint8Array {
  const out = new Uint8Array((s.length + extraNuls) * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c & 0xff;
    out[2 * i + 1] = c >> 8;
  }
  return out;
}

/** The code units in `bytes` (an odd last byte is ignored), lone surrogates kept as they are. */
export function utf16leString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const units = Math.floor((end - start) / 2);
  let out = '';
  const CHUNK = 8192;
  for (let i = 0; i < units; i += CHUNK) {
    const n = Math.min(CHUNK, units - i);
    const codes = new Array<number>(n);
    for (let j = 0; j < n; j++) {
      const p = start + 2 * (i + j);
      codes[j] = (bytes[p] ?? 0) | ((bytes[p + 1] ?? 0) << 8);
    }
    out += String.fromCharCode(...codes);
  }
  return out;
}

/** `text` as UTF-16LE with a terminating NUL code unit. */
export function utf16z(text: string): Uint8Array {
  return utf16leBytes(text, 1);
}

/** The text up to the first NUL code unit (all of it when there is none; an odd last byte is ignored). */
export function readUtf16z(bytes: Uint8Array): string {
  let end = 0;
  while (end + 1 < bytes.length && (bytes[end] !== 0 || bytes[end + 1] !== 0)) end += 2;
  return utf16leString(bytes, 0, end);
}
