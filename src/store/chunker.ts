// Content-defined chunking: cut points chosen by the content itself, so an insertion or deletion
// moves only the cuts next to it and every later chunk is found again (deduplication across versions).
// The rolling hash is the gear hash of FastCDC (Xia et al., "FastCDC: a Fast and Efficient
// Content-Defined Chunking Approach for Data Deduplication", USENIX ATC 2016, §3): h = (h << 1) +
// GEAR[byte] over 32-bit words, so h depends on the last 32 bytes only; cut-point skipping below the
// minimum size and normalized chunking (a harder mask before the normal size, an easier one after,
// §3.3) keep sizes near the average. Each chunk is named by its SHA-256. The loop runs in
// JavaScript (findCut: chunkBytes, the reference) and in WebAssembly (findCutFast, findCutIn:
// chunkStream and the parallel chunker), cut for cut the same.

import type { BufferPool } from '../core/buffer-pool.ts';
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

/** The part of the WebAssembly API used here (the project's type libraries do not describe it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: { readonly scan: Scan } };
  Memory: new (limits: { initial: number; maximum: number; shared: true }) => WasmMemory;
};

/** A shared WebAssembly memory: threads can be sent it and read it where it lies. */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}

/** The gear loop: the address past the first byte of [i, end) where `h & mask` is 0, or -1. */
type Scan = (i: number, end: number, mask: number, h: number) => number;

/** Where a gear memory's bytes start: the gear table (256 little-endian words) comes first. */
export const GEAR_BYTES = 1024;
const PAGE = 65536;
/** 4 GiB, the most a WebAssembly memory addresses: the module accepts any memory up to it. */
const MAX_PAGES = 65536;

/**
 * The gear hash loop compiled to WebAssembly, written out here as bytes. In text form:
 *
 *   (import "m" "memory" (memory 1 65536 shared))
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
 * Two to three times the speed of the same loop in JavaScript (findCut, which stays as the
 * reference the tests compare it with).
 */
function gearScanModule(): Uint8Array {
  const op = { loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, return: 0x0f, get: 0x20, set: 0x21 };
  const i32 = {
    load: 0x28,
    load8u: 0x2d,
    const: 0x41,
    eqz: 0x45,
    geU: 0x4f,
    add: 0x6a,
    and: 0x71,
    shl: 0x74,
  };
  const [I, END, MASK, H] = [0, 1, 2, 3];
  const VOID = 0x40;
  const body = [
    ...[0, op.loop, VOID],
    ...[op.get, I, op.get, END, i32.geU, op.if, VOID, i32.const, 0x7f, op.return, op.end],
    ...[op.get, H, i32.const, 1, i32.shl],
    ...[op.get, I, i32.load8u, 0, 0, i32.const, 2, i32.shl, i32.load, 2, 0, i32.add, op.set, H],
    ...[op.get, I, i32.const, 1, i32.add, op.set, I],
    ...[op.get, H, op.get, MASK, i32.and, i32.eqz, op.if, VOID, op.get, I, op.return, op.end],
    ...[op.br, 0, op.end, 0x00 /* unreachable */, op.end],
  ];
  const section = (id: number, content: number[]): number[] => [id, content.length, ...content];
  const name = (s: string): number[] => [s.length, ...new TextEncoder().encode(s)];
  const uleb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...uleb(n >>> 7)]);
  const t = 0x7f;
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 4, t, t, t, t, 1, t]),
    ...section(2, [1, ...name('m'), ...name('memory'), 0x02, 0x03, 1, ...uleb(MAX_PAGES)]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('scan'), 0x00, 0]),
    ...section(10, [1, body.length, ...body]),
  ]);
}

let compiled: object | null = null;

/** Bytes laid out for the WebAssembly gear loop, and the loop bound to them. */
export interface GearMemory {
  readonly memory: WasmMemory;
  /** The bytes to cut: the memory from GEAR_BYTES on. */
  readonly bytes: Uint8Array;
  readonly scan: Scan;
}

/** A new memory for `capacity` bytes, the gear table written in. */
export function newGearMemory(capacity: number): GearMemory {
  const pages = Math.ceil((GEAR_BYTES + capacity) / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const table = new DataView(memory.buffer, 0, GEAR_BYTES);
  for (const [i, g] of GEAR.entries()) table.setInt32(4 * i, g, true);
  return gearMemoryOf(memory, capacity);
}

/** The loop bound to a memory made by newGearMemory (here or in another thread); `length` bytes. */
export function gearMemoryOf(memory: WasmMemory, length: number): GearMemory {
  compiled ??= new WebAssembly.Module(gearScanModule());
  const { scan } = new WebAssembly.Instance(compiled, { m: { memory } }).exports;
  return { memory, bytes: new Uint8Array(memory.buffer, GEAR_BYTES, length), scan };
}

/** The gear hash of the 32 bytes before `at`: what h is there, wherever the scan started. */
function windowHash(buf: Uint8Array, at: number): number {
  let h = 0;
  for (let i = at - WINDOW; i < at; i++) h = ((h << 1) + (GEAR[buf[i] as number] as number)) | 0;
  return h;
}

/** The first position in [from, to) past a byte where `h & mask` is 0, or -1 (from - 32 >= 0). */
type ScanRange = (from: number, to: number, mask: number) => number;

/** findCut() over a scan of ranges: the same cut points. */
function cutBy(scanRange: ScanRange, start: number, end: number, p: Params): number {
  const n = end - start;
  if (n <= p.min) return n;
  const limit = start + Math.min(n, p.max);
  const normal = start + Math.min(n, p.normal);
  const cut = scanRange(start + p.min, normal, p.maskS);
  if (cut >= 0) return cut - start;
  const late = scanRange(normal, limit, p.maskL);
  return (late >= 0 ? late : limit) - start;
}

/** findCut() of bytes in a gear memory, scanned where they lie. */
export function findCutIn(mem: GearMemory, start: number, end: number, p: Params): number {
  return cutBy(
    (from, to, mask) => {
      const found = mem.scan(GEAR_BYTES + from, GEAR_BYTES + to, mask, windowHash(mem.bytes, from));
      return found < 0 ? -1 : found - GEAR_BYTES;
    },
    start,
    end,
    p,
  );
}

/** Bytes copied into the staging memory of findCutFast() at once. */
const SCAN_STEP = 256 * 1024;
let staging: GearMemory | null = null;

/** findCut() of any bytes, copied a window at a time into a gear memory: the same cuts, faster. */
export function findCutFast(buf: Uint8Array, start: number, end: number, p: Params): number {
  const mem = (staging ??= newGearMemory(SCAN_STEP));
  return cutBy(
    (from, to, mask) => {
      for (let at = from; at < to; at += SCAN_STEP) {
        const n = Math.min(SCAN_STEP, to - at);
        mem.bytes.set(buf.subarray(at, at + n));
        const found = mem.scan(GEAR_BYTES, GEAR_BYTES + n, mask, windowHash(buf, at));
        if (found >= 0) return at + found - GEAR_BYTES;
      }
      return -1;
    },
    start,
    end,
    p,
  );
}

/**
 * The length of the chunk starting at `start` when the bytes `mem.bytes[start, end)` decide it, else 0.
 * They decide it at the end of the stream (`final`), when they hold a maximum chunk, or when the
 * cut falls before `end`; a cut found on the very last byte is not trusted (0), as the gear hash
 * cannot tell it from running out of bytes.
 */
export function decidedCut(mem: GearMemory, start: number, end: number, p: Params, final: boolean): number {
  const n = end - start;
  const size = findCutIn(mem, start, end, p);
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
 * its own copy of the bytes: in memory taken from `memory` when given (the caller gives each
 * chunk's bytes back once done with them), else new. Besides the chunks it yields, memory stays
 * within three maximum chunk sizes whatever the input.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  options: ChunkerOptions = CHUNKER_DEFAULTS,
  memory?: BufferPool,
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
    const bytes = memory?.take(size) ?? new Uint8Array(size);
    bytes.set(buf.subarray(start, start + size));
    yield { offset, size, digest: sha256Hex(bytes), bytes };
    offset += size;
    start += size;
    if (start === end) {
      start = 0;
      end = 0;
    }
  }
}
