// On-disk constants of a regf primary file, its safety limits, and the small helpers the reader and
// the writer share (checksum, name upcase, name hash, Latin-1 test).
// Spec: msuhanov, "Windows registry file format specification" (github msuhanov/regf):
//   § Base block (field offsets, Notes 2: the XOR-32 checksum), § Hive bin, § Cell,
//   § Hash leaf › Note (the name hash), § Index leaf (ordering by upper-cased name),
//   § Key node › Flags (KEY_COMP_NAME ...), § Key value › Flags (VALUE_COMP_NAME),
//   § Big data (16344-byte segments).

export const BASE_BLOCK_SIZE = 4096;
export const HBIN_HEADER_SIZE = 32;
export const HBIN_ALIGN = 4096;
export const NO_OFFSET = 0xffff_ffff;

/** Base block fields (§ Base block). */
export const BB = {
  signature: 0,
  primarySeq: 4,
  secondarySeq: 8,
  lastWritten: 12,
  major: 20,
  minor: 24,
  fileType: 28,
  fileFormat: 32,
  rootCell: 36,
  hbinsSize: 40,
  clustering: 44,
  fileName: 48,
  fileNameLength: 64,
  checksum: 508,
} as const;

export const FILE_TYPE_PRIMARY = 0;
export const FILE_TYPE_LOG_OLD = 1;
export const FILE_TYPE_LOG_OLD_W2K = 2;
export const FILE_TYPE_LOG_NEW = 6;

/** Key node flags (§ Key node › Flags). */
export const KEY_VOLATILE = 0x0001;
export const KEY_HIVE_EXIT = 0x0002;
export const KEY_HIVE_ENTRY = 0x0004;
export const KEY_NO_DELETE = 0x0008;
export const KEY_COMP_NAME = 0x0020;
/** Key value flags (§ Key value › Flags). */
export const VALUE_COMP_NAME = 0x0001;

/** Largest data segment of a big data record, and the size above which one is used (§ Big data). */
export const BIG_DATA_SEGMENT = 16344;
/** Subkey list elements written to one leaf before an index root (ri) splits the list. */
export const MAX_LEAF_ELEMENTS = 1000;

// Safety limits against hostile input. Each bounds memory or time; none is reached by a real hive.

/** Windows refuses keys nested deeper than 512 levels (documented registry element size limits). */
export const MAX_KEY_DEPTH = 512;
/** Subkeys of one key: far above any real hive (HKCR has ~10^4), low enough to bound memory. */
export const MAX_SUBKEYS_PER_KEY = 1 << 20;
/** Values of one key: same reasoning as MAX_SUBKEYS_PER_KEY. */
export const MAX_VALUES_PER_KEY = 1 << 20;
/** Data of one value: Windows documents "available memory"; real hives stay below a few MiB. */
export const MAX_VALUE_SIZE = 64 * 1024 * 1024;
/** Cells visited while reading one hive: a hive of 2 GiB holds at most 2^28 cells of 8 bytes. */
export const MAX_CELLS_VISITED = 1 << 28;
/** Windows' own limit on a hive's size (offsets are 31-bit). */
export const MAX_HIVE_SIZE = 0x8000_0000;
/** Key names are at most 255 characters, value names at most 16383 (documented limits). */
export const MAX_KEY_NAME_CHARS = 255;
export const MAX_VALUE_NAME_CHARS = 16383;

export function readU32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] ?? 0) |
      ((bytes[at + 1] ?? 0) << 8) |
      ((bytes[at + 2] ?? 0) << 16) |
      ((bytes[at + 3] ?? 0) << 24)) >>>
    0
  );
}

export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
}

export function readI32(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at) | 0;
}

export function readU64(bytes: Uint8Array, at: number): bigint {
  return (BigInt(readU32(bytes, at + 4)) << 32n) | BigInt(readU32(bytes, at));
}

export function writeU32(bytes: Uint8Array, at: number, v: number): void {
  bytes[at] = v & 0xff;
  bytes[at + 1] = (v >>> 8) & 0xff;
  bytes[at + 2] = (v >>> 16) & 0xff;
  bytes[at + 3] = (v >>> 24) & 0xff;
}

export function writeU16(bytes: Uint8Array, at: number, v: number): void {
  bytes[at] = v & 0xff;
  bytes[at + 1] = (v >>> 8) & 0xff;
}

export function writeU64(bytes: Uint8Array, at: number, v: bigint): void {
  writeU32(bytes, at, Number(v & 0xffff_ffffn));
  writeU32(bytes, at + 4, Number((v >> 32n) & 0xffff_ffffn));
}

/** XOR-32 of the first 508 bytes of a base block, with 0 and -1 remapped (§ Base block, Notes 2). */
export function baseBlockChecksum(bytes: Uint8Array, start = 0): number {
  let c = 0;
  for (let i = 0; i < BB.checksum; i += 4) c ^= readU32(bytes, start + i);
  c >>>= 0;
  if (c === 0xffff_ffff) return 0xffff_fffe;
  if (c === 0) return 1;
  return c;
}

const upcaseCache = new Map<number, number>();

/** One UTF-16 code unit upper-cased, as RtlUpcaseUnicodeChar does: one unit in, one unit out. */
export function upcaseUnit(c: number): number {
  if (c < 0x80) return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
  if (c >= 0xd800 && c <= 0xdfff) return c;
  const cached = upcaseCache.get(c);
  if (cached !== undefined) return cached;
  const up = String.fromCharCode(c).toUpperCase();
  const result = up.length === 1 ? up.charCodeAt(0) : c;
  upcaseCache.set(c, result);
  return result;
}

/** The upper-cased form of a key or value name, for lookups and for ordering subkey lists. */
export function upcaseName(name: string): string {
  let ascii = true;
  for (let i = 0; i < name.length; i++) {
    if (name.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return name.toUpperCase();
  let out = '';
  for (let i = 0; i < name.length; i++) out += String.fromCharCode(upcaseUnit(name.charCodeAt(i)));
  return out;
}

/** The lh name hash: H = 37 * H + upcase(c) over the name's code units (§ Hash leaf › Note). */
export function nameHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 37) + upcaseUnit(name.charCodeAt(i))) >>> 0;
  return h;
}

/** True when every code unit is below 256, so the name can be stored ASCII-compressed. */
export function fitsLatin1(name: string): boolean {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Compare two upper-cased names by code units (§ Index leaf: "comparison based on character codes"). */
export function compareUpper(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The current time as a FILETIME (100 ns units since 1601-01-01 UTC). */
export function filetimeNow(): bigint {
  return (BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n;
}
