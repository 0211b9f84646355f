// Registry value types and the encoding of their data.
// Spec: msuhanov, "Windows registry file format specification" (github msuhanov/regf),
// § Format of primary files › Key value › Data types (the type numbers and names). The string
// encodings (UTF-16LE with a terminating NUL; REG_MULTI_SZ as NUL-terminated strings followed by
// an empty one) are the ones RegSetValueEx documents and hivex and Windows write.

import { AppError } from '../../core/errors.ts';
import { utf16leBytes, utf16leString } from '../utf16.ts';

export const REG_TYPES = {
  REG_NONE: 0,
  REG_SZ: 1,
  REG_EXPAND_SZ: 2,
  REG_BINARY: 3,
  REG_DWORD: 4,
  REG_DWORD_BIG_ENDIAN: 5,
  REG_LINK: 6,
  REG_MULTI_SZ: 7,
  REG_RESOURCE_LIST: 8,
  REG_FULL_RESOURCE_DESCRIPTOR: 9,
  REG_RESOURCE_REQUIREMENTS_LIST: 10,
  REG_QWORD: 11,
} as const;

const TYPE_NAMES: readonly string[] = Object.keys(REG_TYPES);

/** 'REG_SZ' etc.; an unknown type number gives its hex form, e.g. '0x20000'. */
export function regTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${(type >>> 0).toString(16)}`;
}

export interface RegValue {
  /** '' is the default value. */
  readonly name: string;
  readonly type: number;
  readonly data: Uint8Array;
}

export type RegData = string | readonly string[] | number | bigint | Uint8Array;

function isStringType(type: number): boolean {
  return type === REG_TYPES.REG_SZ || type === REG_TYPES.REG_EXPAND_SZ || type === REG_TYPES.REG_LINK;
}

function badData(type: number, expected: string, data: RegData): AppError {
  const found = data instanceof Uint8Array ? 'bytes' : Array.isArray(data) ? 'a string list' : typeof data;
  return new AppError(
    'INVALID_ARGUMENT',
    `registry data of type ${regTypeName(type)} must be ${expected}, found ${found}`,
    { hint: `give ${expected} for ${regTypeName(type)}, or raw bytes` },
  );
}

function u64(type: number, data: number | bigint): bigint {
  const v = typeof data === 'bigint' ? data : Number.isSafeInteger(data) ? BigInt(data) : -1n;
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) {
    throw new AppError('INVALID_ARGUMENT', `${regTypeName(type)} value ${String(data)} is not in [0, 2^64)`, {
      hint: 'give a non-negative integer below 2^64 (a bigint beyond 2^53)',
    });
  }
  return v;
}

function u32(type: number, data: number | bigint): number {
  const v = typeof data === 'bigint' ? data : Number.isSafeInteger(data) ? BigInt(data) : -1n;
  if (v < 0n || v > 0xffff_ffffn) {
    throw new AppError('INVALID_ARGUMENT', `${regTypeName(type)} value ${String(data)} is not in [0, 2^32)`, {
      hint: 'give a non-negative integer below 2^32',
    });
  }
  return Number(v);
}

/**
 * SZ/EXPAND_SZ/LINK: UTF-16LE + NUL; MULTI_SZ: each string + NUL, then a final NUL; DWORD: u32 LE;
 * DWORD_BIG_ENDIAN: u32 BE; QWORD: u64 LE (bigint or safe number); anything else: the bytes as given.
 * Raw bytes are accepted for every type and kept as they are.
 */
export function encodeRegData(type: number, data: RegData): Uint8Array {
  if (data instanceof Uint8Array) return new Uint8Array(data);
  if (isStringType(type)) {
    if (typeof data !== 'string') throw badData(type, 'a string', data);
    return utf16leBytes(data, 1);
  }
  switch (type) {
    case REG_TYPES.REG_MULTI_SZ: {
      if (typeof data === 'string') return encodeRegData(type, [data]);
      if (!Array.isArray(data)) throw badData(type, 'a list of strings', data);
      const list = data as readonly string[];
      if (list.some((s) => s.includes('\0'))) {
        throw new AppError('INVALID_ARGUMENT', 'a REG_MULTI_SZ string contains a NUL character', {
          hint: 'give each string of the list without NULs',
        });
      }
      const joined = list.map((s) => `${s}\0`).join('');
      return utf16leBytes(joined, 1);
    }
    case REG_TYPES.REG_DWORD:
    case REG_TYPES.REG_DWORD_BIG_ENDIAN: {
      if (typeof data !== 'number' && typeof data !== 'bigint') throw badData(type, 'a number', data);
      const out = new Uint8Array(4);
      new DataView(out.buffer, 0, 4).setUint32(0, u32(type, data), type === REG_TYPES.REG_DWORD);
      return out;
    }
    case REG_TYPES.REG_QWORD: {
      if (typeof data !== 'number' && typeof data !== 'bigint')
        throw badData(type, 'a number or bigint', data);
      const out = new Uint8Array(8);
      new DataView(out.buffer, 0, 8).setBigUint64(0, u64(type, data), true);
      return out;
    }
    default:
      throw badData(type, 'bytes (a Uint8Array)', data);
  }
}

/** The strings of REG_MULTI_SZ data: split at NULs, stopping at the empty string that ends the list. */
function decodeMultiSz(bytes: Uint8Array): string[] {
  const text = utf16leString(bytes);
  const parts = text.split('\0');
  const end = parts.indexOf('');
  return end === -1 ? parts : parts.slice(0, end);
}

/**
 * The inverse of encodeRegData: a string (text up to the first NUL; a missing NUL or an odd length
 * is tolerated), a list of strings, a number (DWORD), a bigint (QWORD), or the bytes themselves for
 * other types and for DWORD/QWORD data of the wrong size.
 */
export function decodeRegData(value: RegValue): RegData {
  const { type, data } = value;
  if (isStringType(type)) {
    const text = utf16leString(data);
    const nul = text.indexOf('\0');
    return nul === -1 ? text : text.slice(0, nul);
  }
  switch (type) {
    case REG_TYPES.REG_MULTI_SZ:
      return decodeMultiSz(data);
    case REG_TYPES.REG_DWORD:
    case REG_TYPES.REG_DWORD_BIG_ENDIAN:
      if (data.length !== 4) return new Uint8Array(data);
      return new DataView(data.buffer, data.byteOffset, 4).getUint32(0, type === REG_TYPES.REG_DWORD);
    case REG_TYPES.REG_QWORD:
      if (data.length !== 8) return new Uint8Array(data);
      return new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
    default:
      return new Uint8Array(data);
  }
}
