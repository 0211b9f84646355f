// Mutations of hive bytes for the regf fuzz test and bench/fuzz-regf.ts: bit flips, byte runs,
// truncation, and edits of 32-bit fields (sizes, counts, offsets: extremes, and offsets of other
// cells, which make cycles), with a seeded generator so a failing case can be replayed.

import { AppError, FormatError } from '../../src/core/errors.ts';
import { Hive, decodeRegData } from '../../src/formats/regf/index.ts';
import { BB, baseBlockChecksum, writeU32 } from '../../src/formats/regf/layout.ts';

/** mulberry32: a small seeded PRNG; returns an integer in [0, n). */
export function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

export type MutationKind = 'flip' | 'run' | 'truncate' | 'field';

const FIELD_VALUES = [
  0, 1, 2, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_fff8, 0x1000, 0x20, 0x3fd8,
];

/** The positions of the allocated cells of a valid hive (relative to the hive bins data), to aim edits at. */
export function cellOffsets(hive: Uint8Array): number[] {
  const out: number[] = [];
  const view = new DataView(hive.buffer, hive.byteOffset, hive.byteLength);
  let bin = 4096;
  while (bin + 32 <= hive.length && view.getUint32(bin, false) === 0x6862696e) {
    const size = view.getUint32(bin + 8, true);
    if (size < 4096) break;
    let cell = bin + 32;
    while (cell + 4 <= bin + size && cell + 4 <= hive.length) {
      const raw = view.getInt32(cell, true);
      const len = Math.abs(raw);
      if (len < 8) break;
      if (raw < 0) out.push(cell - 4096);
      cell += len;
    }
    bin += size;
  }
  return out;
}

/**
 * `base` mutated 1 to 4 times; with `fixChecksum` the base block checksum is made valid again so the
 * mutation reaches the parts behind it. Returns the bytes and the kinds applied.
 */
export function mutate(
  base: Uint8Array,
  cells: readonly number[],
  next: (n: number) => number,
  fixChecksum: boolean,
): { bytes: Uint8Array; kinds: MutationKind[] } {
  let bytes = base.slice();
  const kinds: MutationKind[] = [];
  const count = 1 + next(4);
  for (let i = 0; i < count; i++) {
    // Mostly in the hive bins data (the base block holds few fields); sometimes anywhere.
    const anywhere = next(8) === 0;
    const span = anywhere ? bytes.length : Math.max(1, bytes.length - 4096);
    const at = (anywhere ? 0 : 4096) + next(span);
    const pick = next(10);
    if (pick < 3) {
      kinds.push('flip');
      const bits = 1 + next(8);
      for (let b = 0; b < bits; b++) {
        const p = Math.min(bytes.length - 1, at + next(16));
        bytes[p] = (bytes[p] ?? 0) ^ (1 << next(8));
      }
    } else if (pick < 5) {
      kinds.push('run');
      const fill = [0, 0xff, next(256)][next(3)] ?? 0;
      bytes.fill(fill, at, at + 1 + next(64));
    } else if (pick < 6) {
      kinds.push('truncate');
      bytes = bytes.slice(0, next(bytes.length));
    } else {
      kinds.push('field');
      // A 32-bit field of a cell (aimed at a cell start and its first fields), or any aligned word.
      const cell = cells[next(Math.max(1, cells.length))];
      const target = cell !== undefined && next(4) !== 0 ? 4096 + cell + 4 * next(20) : at & ~3;
      const value =
        next(3) === 0
          ? (cells[next(Math.max(1, cells.length))] ?? 0)
          : (FIELD_VALUES[next(FIELD_VALUES.length)] ?? 0);
      if (target + 4 <= bytes.length) writeU32(bytes, target, value);
    }
  }
  if (fixChecksum && bytes.length >= 4096) writeU32(bytes, BB.checksum, baseBlockChecksum(bytes));
  return { bytes, kinds };
}

/**
 * Runs one case: parse (with the logs, replaying them), walk every key and value, and — when `write`
 * — write the hive again. Returns 'ok' or the error code of a FormatError / HIVE_DIRTY AppError;
 * anything else (a RangeError, a TypeError, another AppError) is thrown on: that is a bug.
 */
export function runCase(bytes: Uint8Array, logs: readonly Uint8Array[], write: boolean): string {
  try {
    const hive = Hive.parse(bytes, { logs, replayLogs: true, clock: () => 1n });
    const stack = [hive.root];
    for (let key = stack.pop(); key !== undefined; key = stack.pop()) {
      for (const v of key.values()) decodeRegData(v);
      stack.push(...key.subkeys());
    }
    if (write) Hive.parse(hive.serialize());
    return 'ok';
  } catch (e) {
    if (e instanceof FormatError) {
      if (e.offset !== undefined && (!Number.isSafeInteger(e.offset) || e.offset < 0)) {
        throw new Error(`FormatError with a bad offset ${e.offset}: ${e.message}`, { cause: e });
      }
      return e.code;
    }
    if (e instanceof AppError && e.code === 'HIVE_DIRTY') return e.code;
    throw e;
  }
}
