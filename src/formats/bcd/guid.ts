// GUIDs the way BCD spells them: lower case in braces, "{01234567-89ab-cdef-0123-456789abcdef}",
// for object key names and object / object-list elements; inside device elements as the 16
// mixed-endian bytes of src/formats/guid.ts (MS-DTYP 2.3.4.2, the first three fields little-endian).

import { FormatError } from '../../core/errors.ts';
import { decodeGuid, encodeGuid, isGuid as isBareOrBracedGuid, normalizeGuid as bare } from '../guid.ts';

/** True when `text` is a GUID with or without (matching) braces. */
export function isGuid(text: string): boolean {
  return isBareOrBracedGuid(text) && text.trim().startsWith('{') === text.trim().endsWith('}');
}

/** The BCD spelling of a GUID given with or without braces. Throws FormatError when it is not one. */
export function normalizeGuid(text: string): string {
  if (!isGuid(text))
    throw new FormatError(`expected a GUID like {01234567-89ab-cdef-0123-456789abcdef}, found "${text}"`);
  return `{${bare(text)}}`;
}

/** 16 mixed-endian bytes at `offset` → "{…}". */
export function guidFromBytes(bytes: Uint8Array, offset = 0): string {
  return `{${decodeGuid(bytes, offset)}}`;
}

/** "{…}" (braces optional) → 16 mixed-endian bytes. */
export function guidToBytes(text: string): Uint8Array {
  return encodeGuid(normalizeGuid(text));
}

export const NULL_GUID = '{00000000-0000-0000-0000-000000000000}';
