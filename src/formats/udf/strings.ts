// Text in UDF: OSTA compressed Unicode (OSTA UDF 2.60 §2.1.1, "CS0"), as recorded in dstrings
// (ECMA-167 1/7.2.12: the last byte holds the recorded length) and in file identifiers (4/14.4.8).
// Compression ID 8: one byte a character (Latin-1); 16: two bytes a character, big-endian UTF-16.
// IDs 254 and 255 (UDF 2.50 §2.1.1, deleted/blank names) have the same widths as 8 and 16.

import { FormatError } from '../../core/errors.ts';

export function decodeCompressedUnicode(bytes: Uint8Array, at: number): string {
  const id = bytes[0];
  const body = bytes.subarray(1);
  if (id === 8 || id === 254) {
    let text = '';
    for (const c of body) text += String.fromCharCode(c);
    return text;
  }
  if (id === 16 || id === 255) {
    if (body.byteLength % 2 !== 0) {
      throw new FormatError(`16-bit compressed Unicode has an odd length ${body.byteLength}`, { offset: at });
    }
    let text = '';
    for (let i = 0; i < body.byteLength; i += 2) {
      text += String.fromCharCode(((body[i] ?? 0) << 8) | (body[i + 1] ?? 0));
    }
    return text;
  }
  throw new FormatError(`compression ID ${String(id)} of a UDF string is not 8 or 16`, { offset: at });
}

/** A dstring field: the last byte is how many of the bytes before it are used (0 = empty). */
export function decodeDstring(field: Uint8Array, at: number): string {
  if (field.byteLength < 2) throw new FormatError('a dstring field needs at least 2 bytes', { offset: at });
  const used = field[field.byteLength - 1] ?? 0;
  if (used === 0) return '';
  if (used > field.byteLength - 1) {
    throw new FormatError(`dstring says ${used} bytes are used, the field holds ${field.byteLength - 1}`, {
      offset: at + field.byteLength - 1,
    });
  }
  return decodeCompressedUnicode(field.subarray(0, used), at).replace(/\0+$/, '');
}
