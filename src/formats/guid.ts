// GUIDs as text and as the 16 bytes Microsoft and UEFI store: the first three fields little-endian,
// the last two as written (UEFI 2.10 Appendix A "EFI_GUID"; RFC 9562 §4 for the text form; the
// same "bytes_le" order GPT (UEFI 2.10 §5.3.3) and BCD device elements use).
// Text out is lower case without braces; text in is accepted in either case, with or without braces.

import { FormatError } from '../core/errors.ts';

export const GUID_BYTES = 16;

const GUID_TEXT = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** The canonical text form: lower case, no braces. Throws FormatError when `text` is not a GUID. */
export function normalizeGuid(text: string): string {
  const m = GUID_TEXT.exec(text.trim());
  if (m === null)
    throw new FormatError(`expected a GUID like 01234567-89ab-cdef-0123-456789abcdef, found "${text}"`);
  return m.slice(1, 6).join('-').toLowerCase();
}

export function isGuid(text: string): boolean {
  return GUID_TEXT.test(text.trim());
}

function hexByte(text: string, at: number): number {
  return Number.parseInt(text.slice(at, at + 2), 16);
}

/** The 16 mixed-endian bytes of a GUID. */
export function encodeGuid(text: string): Uint8Array {
  const hex = normalizeGuid(text).replaceAll('-', '');
  const out = new Uint8Array(GUID_BYTES);
  // Data1 (4 bytes), Data2 (2), Data3 (2) little-endian; Data4 (8) in order.
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  order.forEach((from, to) => {
    out[to] = hexByte(hex, from * 2);
  });
  return out;
}

/** The GUID stored at `offset` of `bytes`, as text. */
export function decodeGuid(bytes: Uint8Array, offset = 0): string {
  if (offset < 0 || offset + GUID_BYTES > bytes.byteLength) {
    throw new FormatError(`a GUID needs 16 bytes, only ${Math.max(0, bytes.byteLength - offset)} remain`, {
      offset,
    });
  }
  const h = (i: number): string => (bytes[offset + i] ?? 0).toString(16).padStart(2, '0');
  const part = (idx: readonly number[]): string => idx.map(h).join('');
  return [part([3, 2, 1, 0]), part([5, 4]), part([7, 6]), part([8, 9]), part([10, 11, 12, 13, 14, 15])].join(
    '-',
  );
}

export const NIL_GUID = '00000000-0000-0000-0000-000000000000';

/**
 * A random (version 4, RFC 9562 §5.4) GUID from 16 random bytes the caller provides (this layer
 * does no I/O; pass `crypto.getRandomValues(new Uint8Array(16))`).
 */
export function guidFromRandom(random: Uint8Array): string {
  if (random.byteLength !== GUID_BYTES) {
    throw new FormatError(`a random GUID needs 16 random bytes, found ${random.byteLength}`);
  }
  const b = Uint8Array.from(random);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
