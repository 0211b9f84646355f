// Content-defined chunking: cut points chosen by the content itself, so an insertion or deletion
// moves only the cuts next to it and every later chunk is found again (deduplication across versions).
// The rolling hash is the gear hash of FastCDC (Xia et al., "FastCDC: a Fast and Efficient
// Content-Defined Chunking Approach for Data Deduplication", USENIX ATC 2016, §3): h = (h << 1) +
// GEAR[byte] over 32-bit words, so h depends on the last 32 bytes only; cut-point skipping below the
// minimum size and normalized chunking (a harder mask before the normal size, an easier one after,
// §3.3) keep sizes near the average. Each chunk is named by its SHA-256.

import { AppError } from '../core/errors.ts';
import { sha256Hex } from './manifest.ts';

export interface ChunkerOptions {
  readonly minSize: number;
  /** The normal size: the mask gets easier past it. The mean chunk is a little above it. */
  readonly avgSize: number;
  readonly maxSize: number;
}

export const CHUNKER_DEFAULTS: ChunkerOptions = {
  minSize: 512 * 1024,
  avgSize: 1024 * 1024,
  maxSize: 4 * 1024 * 1024,
};

/** Bits of the hash window: h is a 32-bit word shifted left once a byte. */
const WINDOW = 32;
/** FastCDC's normalization level: masks of log2(avg) ± 2 bits. */
const NORMALIZATION = 2;

export interface Chunk {
  /** Where the chunk starts in the stream. */
  readonly offset: number;
  readonly size: number;
  /** SHA-256 of the bytes, lower-case hex. */
  readonly digest: string;
  readonly bytes: Uint8Array;
}

/**
 * The gear table: 256 32-bit words from a fixed-seed splitmix32 generator, so every build of
 * winsmith cuts the same content at the same places.
 */
function buildGear(): Int32Array {
  const gear = new Int32Array(256);
  let state = 0x57494d53; // "WIMS"
  for (let i = 0; i < 256; i++) {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    gear[i] = z ^ (z >>> 16);
  }
  return gear;
}

const GEAR = buildGear();

/** A mask of the `bits` highest bits: those depend on the whole 32-byte window. */
function topMask(bits: number): number {
  return bits >= 32 ? -1 : ~(-1 >>> bits) | 0;
}

export interface Params {
  readonly min: number;
  readonly normal: number;
  readonly max: number;
  readonly maskS: number;
  readonly maskL: number;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Checks the sizes: powers of two with 64 <= min < avg < max <= 64 MiB. */
export function chunkerParams(options: ChunkerOptions = CHUNKER_DEFAULTS): Params {
  const { minSize, avgSize, maxSize } = options;
  if (
    !isPowerOfTwo(minSize) ||
    !isPowerOfTwo(avgSize) ||
    !isPowerOfTwo(maxSize) ||
    minSize < 2 * WINDOW ||
    minSize >= avgSize ||
    avgSize >= maxSize ||
    maxSize > 64 * 1024 * 1024
  ) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `chunk sizes min ${minSize} / avg ${avgSize} / max ${maxSize} are not powers of two with 64 <= min < avg < max <= 64 MiB`,
      { hint: 'choose sizes such as 512 KiB / 1 MiB / 4 MiB' },
    );
  }
  const bits = Math.log2(avgSize);
  return {
    min: minSize,
    normal: avgSize,
    max: maxSize,
    maskS: topMask(bits + NORMALIZATION),
    maskL: topMask(bits - NORMALIZATION),
  };
}

/**
 * The length of the chunk starting at `start` in `buf[start, end)`. The caller gives at least
 * `max` bytes unless the stream ends within them (then the rest is one chunk at most).
 */
export function findCut(buf: Uint8Array, start: number, end: number, p: Params): number {
  const n = end - start;
  if (n <= p.min) return n;
  const limit = start + Math.min(n, p.max);
  const normal = start + Math.min(n, p.normal);
  const gear = GEAR;
  let h = 0;
  // Warm the window up so the first cut tested depends on 32 bytes of content, not on where the
  // previous chunk ended.
  let i = start + p.min - WINDOW;
  const first = start + p.min;
  for (; i < first; i++) h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
  const maskS = p.maskS;
  for (; i < normal; i++) {
    h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
    if ((h & maskS) === 0) return i + 1 - start;
  }
  const maskL = p.maskL;
  for (; i < limit; i++) {
    h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
    if ((h & maskL) === 0) return i + 1 - start;
  }
  return limit - start;
}

/**
 * The gear hash loop compiled to WebAssembly (written out below as bytes; in text form):
 *
 *   (func (export "scan") (param $i i32) (param $end i32) (param $mask i32) (param $h i32) (result i32)
 *     (loop $next
 *       (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
 *       (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
 *                              (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *       (if (i32.eqz (i32.and (local.get $h) (local.get $mask))) (then (return (local.get $i))))
 *       (br $next))
 *     (unreachable))
 *
 * Memory: the gear table at 0, the bytes scanned at SCAN_AT. It returns the address just past the
 * first byte where `h & mask` is 0, or -1. Three times the speed of the same loop in JavaScript.
 */
function gearScanModule(): Uint8Array {
  const section = (id: number, body: number[]): number[] => [id, body.length, ...body];
  const i32 = 0x7f;
  const body = [
    0x00, // no locals besides the parameters
    0x03,
    0x40, // loop
    0x20,
    0,
    0x20,
    1,
    0x4f, // i >= end
    0x04,
    0x40,
    0x41,
    0x7f,
    0x0f,
    0x0b, // if: return -1
    0x20,
    3,
    0x41,
    1,
    0x74, // h << 1
    0x20,
    0,
    0x2d,
    0,
    0,
    0x41,
    2,
    0x74,
    0x28,
    2,
    0, // gear[byte at i]
    0x6a,
    0x21,
    3, // h = sum
    0x20,
    0,
    0x41,
    1,
    0x6a,
    0x21,
    0, // i++
    0x20,
    3,
    0x20,
    2,
    0x71,
    0x45, // (h & mask) == 0
    0x04,
    0x40,
    0x20,
    0,
    0x0f,
    0x0b, // if: return i
    0x0c,
    0, // next
    0x0b, // end loop
    0x00, // unreachable
    0x0b, // end
  ];
  const name = (s: string): number[] => [s.length, ...new TextEncoder().encode(s)];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 4, i32, i32, i32, i32, 1, i32]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, SCAN_PAGES]),
    ...section(7, [2, ...name('scan'), 0, 0, ...name('memory'), 2, 0]),
    ...section(10, [1, body.length, ...body]),
  ]);
}

/** The part of the WebAssembly API used here (the project's type libraries do not describe it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: object,
  ) => {
    readonly exports: {
      readonly scan: (i: number, end: number, mask: number, h: number) => number;
      readonly memory: { readonly buffer: ArrayBuffer };
    };
  };
};

/** Where scanned bytes go in the WebAssembly memory (after the gear table), and how many at once. */
const SCAN_AT = 1024;
const SCAN_STEP = 256 * 1024;
const SCAN_PAGES = Math.ceil((SCAN_AT + SCAN_STEP) / 65536);

const gearScan = ((): {
  scan: (i: number, end: number, mask: number, h: number) => number;
  memory: Uint8Array;
} => {
  const { scan, memory: wasmMemory } = new WebAssembly.Instance(new WebAssembly.Module(gearScanModule()), {})
    .exports;
  const memory = new Uint8Array(wasmMemory.buffer);
  const table = new DataView(memory.buffer, 0, SCAN_AT);
  for (const [i, g] of GEAR.entries()) table.setInt32(4 * i, g, true);
  return { scan, memory };
})();

/** The gear hash of the 32 bytes before `at`: what h is there, wherever the scan started. */
function windowHash(buf: Uint8Array, at: number): number {
  let h = 0;
  for (let i = at - WINDOW; i < at; i++) h = ((h << 1) + (GEAR[buf[i] as number] as number)) | 0;
  return h;
}

/** The first position in [from, to) past a byte where `h & mask` is 0, or -1 (from - 32 >= 0). */
function scanFor(buf: Uint8Array, from: number, to: number, mask: number): number {
  const { scan, memory } = gearScan;
  for (let at = from; at < to; at += SCAN_STEP) {
    const n = Math.min(SCAN_STEP, to - at);
    memory.set(buf.subarray(at, at + n), SCAN_AT);
    const found = scan(SCAN_AT, SCAN_AT + n, mask, windowHash(buf, at));
    if (found >= 0) return at + found - SCAN_AT;
  }
  return -1;
}

/** findCut() with the loop in WebAssembly: the same cuts (the tests compare them), faster. */
export function findCutFast(buf: Uint8Array, start: number, end: number, p: Params): number {
  const n = end - start;
  if (n <= p.min) return n;
  const limit = start + Math.min(n, p.max);
  const normal = start + Math.min(n, p.normal);
  const cut = scanFor(buf, start + p.min, normal, p.maskS);
  if (cut >= 0) return cut - start;
  const late = scanFor(buf, normal, limit, p.maskL);
  return (late >= 0 ? late : limit) - start;
}

/**
 * The length of the chunk starting at `start` when the bytes `buf[start, end)` decide it, else 0.
 * They decide it at the end of the stream (`final`), when they hold a maximum chunk, or when the
 * cut falls before `end`; a cut found on the very last byte is not trusted (0), as the gear hash
 * cannot tell it from running out of bytes.
 */
export function decidedCut(buf: Uint8Array, start: number, end: number, p: Params, final: boolean): number {
  const n = end - start;
  const size = findCutFast(buf, start, end, p);
  return final || n >= p.max || size < n ? size : 0;
}

/** The chunks of bytes held in memory (tests and small inputs). */
export function* chunkBytes(bytes: Uint8Array, options: ChunkerOptions = CHUNKER_DEFAULTS): Generator<Chunk> {
  const p = chunkerParams(options);
  let start = 0;
  while (start < bytes.length) {
    const size = findCut(bytes, start, bytes.length, p);
    const chunk = bytes.slice(start, start + size);
    yield { offset: start, size, digest: sha256Hex(chunk), bytes: chunk };
    start += size;
  }
}

/**
 * The chunks of a stream (a Readable or any async iterable of byte pieces), in order, each with
 * its own copy of the bytes. Memory stays within three maximum chunk sizes whatever the input.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  options: ChunkerOptions = CHUNKER_DEFAULTS,
): AsyncGenerator<Chunk> {
  const p = chunkerParams(options);
  const buf = new Uint8Array(3 * p.max);
  let start = 0;
  let end = 0;
  let offset = 0;
  const iterator = source[Symbol.asyncIterator]();
  let pending: Uint8Array | null = null;
  let eof = false;
  for (;;) {
    while (!eof && end - start < p.max) {
      if (pending === null || pending.length === 0) {
        const next = await iterator.next();
        if (next.done === true) {
          eof = true;
          break;
        }
        pending = next.value;
        continue;
      }
      if (end === buf.length) {
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      const take = Math.min(pending.length, buf.length - end);
      buf.set(take === pending.length ? pending : pending.subarray(0, take), end);
      end += take;
      pending = pending.subarray(take);
    }
    if (end === start) return;
    const size = findCutFast(buf, start, end, p);
    const bytes = buf.slice(start, start + size);
    yield { offset, size, digest: sha256Hex(bytes), bytes };
    offset += size;
    start += size;
    if (start === end) {
      start = 0;
      end = 0;
    }
  }
}
