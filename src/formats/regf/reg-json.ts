// The JSON form of registry keys and values that `winsmith reg export --json` and `reg get --json`
// print: `[ { "path": "\\Key\\Sub", "values": [ { "name", "type", "data" } ] } ]`.
// data is a string for REG_SZ, REG_EXPAND_SZ and REG_LINK, a string list for REG_MULTI_SZ, a
// number for REG_DWORD, a decimal string for REG_QWORD (it can pass 2^53), and lower-case hex of the
// bytes for every other type. When that typed form does not give back the stored bytes exactly
// (a string without its NUL, a DWORD of 3 bytes, …), "raw" holds the bytes in lower-case hex too.
// Type numbers and names: msuhanov's regf specification, § Key value › Data types.

import { FormatError } from '../../core/errors.ts';
import {
  REG_TYPES,
  decodeRegData,
  encodeRegData,
  regTypeName,
  type HiveKey,
  type RegValue,
} from './index.ts';

export type RegJsonData = string | readonly string[] | number;

export interface RegJsonValue {
  readonly name: string;
  /** 'REG_SZ' etc., or '0x…' for a type number without a name. */
  readonly type: string;
  readonly data: RegJsonData;
  /** The stored bytes, present only when `data` does not encode back to them. */
  readonly raw?: string;
}

export interface RegJsonKey {
  /** Relative to the hive root, '\\'-separated: '\\' is the root. */
  readonly path: string;
  readonly values: readonly RegJsonValue[];
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Bytes from hex digits, optionally separated by ',', ':' or blanks ("0a1b", "0a,1b", "0a 1b"). */
export function hexToBytes(text: string): Uint8Array {
  const digits = text.replace(/[\s,:]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) {
    throw new FormatError(`expected hex bytes (pairs of hex digits), found '${text}'`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The type number of a name regTypeName gives ('REG_SZ', '0x3e8'), or undefined. */
export function regTypeNumber(name: string): number | undefined {
  const upper = name.toUpperCase();
  if (Object.hasOwn(REG_TYPES, upper)) return REG_TYPES[upper as keyof typeof REG_TYPES];
  if (/^0X[0-9A-F]{1,8}$/.test(upper)) return Number.parseInt(upper.slice(2), 16);
  return undefined;
}

function typedData(value: RegValue): RegJsonData {
  const decoded = decodeRegData(value);
  if (decoded instanceof Uint8Array) return bytesToHex(decoded);
  if (typeof decoded === 'bigint') return decoded.toString();
  if (typeof decoded === 'number' && value.type !== REG_TYPES.REG_DWORD) return bytesToHex(value.data);
  return decoded;
}

/** The bytes a JSON value's `data` stands for (its `raw` is not looked at). */
export function regJsonDataBytes(type: number, data: RegJsonData): Uint8Array {
  if (typeof data === 'number') return encodeRegData(type, data);
  if (typeof data !== 'string') return encodeRegData(type, data);
  switch (type) {
    case REG_TYPES.REG_SZ:
    case REG_TYPES.REG_EXPAND_SZ:
    case REG_TYPES.REG_LINK:
      return encodeRegData(type, data);
    case REG_TYPES.REG_QWORD:
      if (/^\d+$/.test(data)) return encodeRegData(type, BigInt(data));
      return hexToBytes(data);
    default:
      return hexToBytes(data);
  }
}

/** The bytes a JSON value stands for: its raw bytes when given, else its data encoded. */
export function regJsonValueBytes(value: RegJsonValue): Uint8Array {
  if (value.raw !== undefined) return hexToBytes(value.raw);
  const type = regTypeNumber(value.type);
  if (type === undefined) throw new FormatError(`unknown registry value type '${value.type}'`);
  return regJsonDataBytes(type, value.data);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function regValueToJson(value: RegValue): RegJsonValue {
  const data = typedData(value);
  const base = { name: value.name, type: regTypeName(value.type), data };
  let exact: boolean;
  try {
    exact = sameBytes(regJsonDataBytes(value.type, data), value.data);
  } catch {
    exact = false;
  }
  return exact ? base : { ...base, raw: bytesToHex(value.data) };
}

/** The key and every key below it, depth first in hive order, each with its values. */
export function regKeysToJson(key: HiveKey): RegJsonKey[] {
  const out: RegJsonKey[] = [];
  const visit = (k: HiveKey): void => {
    out.push({ path: k.path, values: k.values().map(regValueToJson) });
    for (const sub of k.subkeys()) visit(sub);
  };
  visit(key);
  return out;
}
