// BCD element values: each element is the value "Element" of key Objects\{id}\Elements\<type>, and
// its registry type and bytes follow the element type's format (bits 24–27):
//   1 device       REG_BINARY   see device.ts
//   2 string       REG_SZ       UTF-16LE, NUL-terminated
//   3 object       REG_SZ       "{guid}"
//   4 object list  REG_MULTI_SZ "{guid}" strings
//   5 integer      REG_BINARY   u64 little-endian (8 bytes; stores made by other tools also hold
//                               shorter ones, e.g. 1 or 4 bytes, read zero-extended and kept so)
//   6 boolean      REG_BINARY   one byte, 0 or 1
//   7 integer list REG_BINARY   n × u64 little-endian
// Sources: Microsoft "BcdElementType" (element formats); /work/shared/research/windows-formats.md §2.1;
// every format checked against fixtures/real/bcd/uefi-bcdboot.BCD (hivexregedit --export).
// Reading a store goes through readElement: an element that does not decode by its format is kept
// as its bytes with the reason, as Windows skips an element it cannot use instead of the store.

import { FormatError } from '../../core/errors.ts';
import { type BcdDevice, decodeDevice, encodeDevice, formatDevice } from './device.ts';
import { normalizeGuid } from './guid.ts';
import { aliasOf, elementFormat, elementKeyName } from './tables.ts';
import { utf16z } from '../utf16.ts';

/** Registry value types used by BCD (the numbers of REG_TYPES in src/formats/regf). */
export const REG_SZ = 1;
export const REG_BINARY = 3;
export const REG_MULTI_SZ = 7;

/** No sane element is this large; hostile input cannot make a decode allocate more. */
export const MAX_ELEMENT_BYTES = 1024 * 1024;

export type BcdValue =
  | { readonly format: 'device'; readonly value: BcdDevice }
  | { readonly format: 'string'; readonly value: string }
  | { readonly format: 'object'; readonly value: string }
  | { readonly format: 'objectList'; readonly value: readonly string[] }
  /** `size`: the bytes it was stored in when not 8 (kept when it is written back). */
  | { readonly format: 'integer'; readonly value: bigint; readonly size?: number }
  | { readonly format: 'boolean'; readonly value: boolean }
  | { readonly format: 'integerList'; readonly value: readonly bigint[] }
  /** An element whose type has a format BCD does not define: kept as its registry type and bytes. */
  | { readonly format: 'unknown'; readonly regType: number; readonly data: Uint8Array }
  /** An element whose bytes do not fit its type's format: kept as they are, with the reason. */
  | {
      readonly format: 'undecoded';
      readonly regType: number;
      readonly data: Uint8Array;
      readonly reason: string;
    };

export interface EncodedElement {
  readonly regType: number;
  readonly data: Uint8Array;
}

/** UTF-16LE strings separated by NULs; a trailing run of NULs (and an odd last byte) is ignored. */
function utf16Strings(data: Uint8Array): string[] {
  const decoder = new TextDecoder('utf-16le');
  const out: string[] = [];
  let start = 0;
  const end = data.length - (data.length % 2);
  for (let i = 0; i < end; i += 2) {
    if (data[i] === 0 && data[i + 1] === 0) {
      out.push(decoder.decode(data.subarray(start, i)));
      start = i + 2;
    }
  }
  if (start < end) out.push(decoder.decode(data.subarray(start, end)));
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

function expectRegType(type: number, regType: number, wanted: number, what: string): void {
  if (regType !== wanted) {
    throw new FormatError(
      `element ${elementKeyName(type)} (${what}) should be registry type ${wanted}, found ${regType}`,
    );
  }
}

function readGuid(type: number, text: string): string {
  try {
    return normalizeGuid(text);
  } catch {
    throw new FormatError(`element ${elementKeyName(type)} should name an object {guid}, found "${text}"`);
  }
}

/** An unsigned little-endian integer of up to 8 bytes. */
function littleEndian(data: Uint8Array): bigint {
  let value = 0n;
  for (let i = data.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[i] ?? 0);
  return value;
}

/** Decodes an element's registry value by the format its type says. Throws FormatError when they disagree. */
export function decodeElement(type: number, regType: number, data: Uint8Array): BcdValue {
  if (data.length > MAX_ELEMENT_BYTES) {
    throw new FormatError(`an element is limited to ${MAX_ELEMENT_BYTES} bytes, found ${data.length}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  const format = elementFormat(type);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (format) {
    case 'device':
      expectRegType(type, regType, REG_BINARY, 'device');
      return { format, value: decodeDevice(data) };
    case 'string':
      expectRegType(type, regType, REG_SZ, 'string');
      return { format, value: utf16Strings(data)[0] ?? '' };
    case 'object':
      expectRegType(type, regType, REG_SZ, 'object');
      return { format, value: readGuid(type, utf16Strings(data)[0] ?? '') };
    case 'objectList':
      expectRegType(type, regType, REG_MULTI_SZ, 'object list');
      return { format, value: utf16Strings(data).map((s) => readGuid(type, s)) };
    case 'integer':
      expectRegType(type, regType, REG_BINARY, 'integer');
      if (data.length < 1 || data.length > 8) {
        throw new FormatError(
          `element ${elementKeyName(type)} (integer) should be 1 to 8 bytes, found ${data.length}`,
        );
      }
      if (data.length === 8) return { format, value: dv.getBigUint64(0, true) };
      return { format, value: littleEndian(data), size: data.length };
    case 'boolean':
      expectRegType(type, regType, REG_BINARY, 'boolean');
      if (data.length < 1 || data.length > 8) {
        throw new FormatError(
          `element ${elementKeyName(type)} (boolean) should be 1 byte, found ${data.length}`,
        );
      }
      return { format, value: data.some((b) => b !== 0) };
    case 'integerList': {
      expectRegType(type, regType, REG_BINARY, 'integer list');
      if (data.length % 8 !== 0) {
        throw new FormatError(
          `element ${elementKeyName(type)} (integer list) should be a multiple of 8 bytes, found ${data.length}`,
        );
      }
      const value: bigint[] = [];
      for (let i = 0; i < data.length; i += 8) value.push(dv.getBigUint64(i, true));
      return { format, value };
    }
    case undefined:
      return { format: 'unknown', regType, data };
  }
}

/**
 * An element of a store being read: decoded as decodeElement does, or, when its bytes do not fit
 * its type's format, kept as an 'undecoded' value that says why (never a FormatError).
 */
export function readElement(type: number, regType: number, data: Uint8Array): BcdValue {
  try {
    return decodeElement(type, regType, data);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return { format: 'undecoded', regType, data, reason: e.message };
  }
}

const U64_MAX = (1n << 64n) - 1n;

/** An integer in `size` (1 to 8) bytes, little-endian, when it fits them. */
function sizedInteger(value: bigint, size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 1 || size > 8 || value < 0n || value >= 1n << BigInt(size * 8)) {
    throw new FormatError(`expected an integer that fits ${size} bytes, found ${value}`);
  }
  return Uint8Array.from({ length: size }, (_, i) => Number((value >> BigInt(i * 8)) & 0xffn));
}

function u64Bytes(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  values.forEach((v, i) => {
    if (v < 0n || v > U64_MAX) throw new FormatError(`expected an integer from 0 to 2^64-1, found ${v}`);
    dv.setBigUint64(i * 8, v, true);
  });
  return out;
}

/** Encodes a value for an element of `type`; the value's format must be the one the type says. */
export function encodeElement(type: number, value: BcdValue): EncodedElement {
  if (value.format === 'undecoded') return { regType: value.regType, data: value.data };
  const format = elementFormat(type) ?? 'unknown';
  if (value.format !== format) {
    throw new FormatError(
      `element ${elementKeyName(type)} holds a ${format} value, not a ${value.format} value`,
    );
  }
  switch (value.format) {
    case 'device':
      return { regType: REG_BINARY, data: encodeDevice(value.value) };
    case 'string':
      return { regType: REG_SZ, data: utf16z(value.value) };
    case 'object':
      return { regType: REG_SZ, data: utf16z(normalizeGuid(value.value)) };
    case 'objectList': {
      const parts = value.value.map((g) => utf16z(normalizeGuid(g)));
      const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + 2);
      let at = 0;
      for (const p of parts) {
        data.set(p, at);
        at += p.length;
      }
      return { regType: REG_MULTI_SZ, data };
    }
    case 'integer':
      return {
        regType: REG_BINARY,
        data: value.size === undefined ? u64Bytes([value.value]) : sizedInteger(value.value, value.size),
      };
    case 'boolean':
      return { regType: REG_BINARY, data: Uint8Array.of(value.value ? 1 : 0) };
    case 'integerList':
      return { regType: REG_BINARY, data: u64Bytes(value.value) };
    case 'unknown':
      return { regType: value.regType, data: value.data };
  }
}

/** A JSON-safe form: devices as objects, integers as numbers (decimal strings past 2^53). */
export function valueToJson(value: BcdValue): unknown {
  const int = (v: bigint): number | string =>
    v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  switch (value.format) {
    case 'device':
    case 'string':
    case 'object':
    case 'objectList':
    case 'boolean':
      return value.value;
    case 'integer':
      return int(value.value);
    case 'integerList':
      return value.value.map(int);
    case 'unknown':
      return { regType: value.regType, hex: hex(value.data) };
    case 'undecoded':
      return { regType: value.regType, hex: hex(value.data), undecoded: value.reason };
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function objectRef(guid: string): string {
  return aliasOf(guid) ?? guid;
}

/** The value as `bcdedit /enum` would print it (one or more lines). */
export function formatValue(value: BcdValue): string[] {
  switch (value.format) {
    case 'device':
      return [formatDevice(value.value)];
    case 'string':
      return [value.value];
    case 'object':
      return [objectRef(value.value)];
    case 'objectList':
      return value.value.length === 0 ? [''] : value.value.map(objectRef);
    case 'integer':
      return [value.value <= 0xffffn ? value.value.toString() : `0x${value.value.toString(16)}`];
    case 'boolean':
      return [value.value ? 'Yes' : 'No'];
    case 'integerList':
      return value.value.length === 0 ? [''] : value.value.map((v) => `0x${v.toString(16)}`);
    case 'unknown':
      return [`(registry type ${value.regType}) ${hex(value.data)}`];
    case 'undecoded':
      return [`(registry type ${value.regType}) ${hex(value.data)} (not decoded: ${value.reason})`];
  }
}
