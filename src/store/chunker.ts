// Content-defined chunking: cut points chosen by the content itself, so an insertion or deletion
// moves only the cuts next to it and every later chunk is found again (deduplication across versions).
// The rolling hash is the gear hash of FastCDC (Xia et al., "FastCDC: a Fast and Efficient
// Content-Defined Chunking Approach for Data Deduplication", USENIX ATC 2016, §3): h = (h << 1) +
// GEAR[byte] over 32-bit words, so h depends on the last 32 bytes only; cut-point skipping below the
// minimum size and normalized chunking (a harder mask before the normal size, an easier one after,
// §3.3) keep sizes near the average. Each chunk is named by its SHA-256.

import { createHash } from 'node:crypto';
import { AppError } from '../core/errors.ts';

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

interface Params {
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

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
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
    const size = findCut(buf, start, end, p);
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
