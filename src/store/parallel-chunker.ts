// Content-defined chunking on several threads, cutting exactly where chunkStream() cuts.
//
// The stream is read into segments held in shared WebAssembly memory (where the gear loop of
// chunker.ts runs). Each segment goes to a worker thread (chunk-worker.ts) that cuts it and hashes
// its chunks, and to one more thread that keeps the whole stream's SHA-256; the main thread merges
// the cuts in order. Why the merge is exact whatever the number of workers or the segment size: where a chunk
// ends depends only on where it starts and on the bytes (findCut), so two runs of the cutter over
// the same bytes that ever start a chunk at the same place agree from there on. A worker starts
// cutting `overlap` bytes before its segment (at least one maximum chunk), in general not at a true
// cut. The true cuts up to the segment are known from the segments before it; the last one, p, lies
// less than one maximum chunk before the segment, so inside the overlap. If the worker's cuts pass
// through p — they usually do: cutters started at different places fall into step within a few
// chunks — its cuts from p on are the true ones. If not, the main thread cuts from p itself until it
// reaches one of the worker's cuts or the end of what the segment decides.

import { open, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AppError, errorText } from '../core/errors.ts';
import {
  chunkerParams,
  CHUNKER_DEFAULTS,
  decidedCut,
  GEAR_BYTES,
  gearMemoryOf,
  newGearMemory,
  type Chunk,
  type ChunkerOptions,
  type GearMemory,
  type WasmMemory,
} from './chunker.ts';
import { sha256Hex } from './manifest.ts';

export interface ParallelOptions {
  /** Worker threads cutting segments. */
  readonly workers: number;
  /** New bytes of the stream per segment. */
  readonly segmentSize: number;
  /** Bytes before each segment that its worker cuts as well, to fall into step: >= the maximum chunk. */
  readonly overlap: number;
}

/**
 * Chunks of average size a worker has to fall into step with the true cuts, past the maximum
 * chunk: measured on random data, cutters started at random places met the true cuts within 2 MiB
 * (median), 12 MiB (99th percentile) at the default sizes; the rare miss costs the main thread a
 * few chunks of cutting.
 */
const OVERLAP_CHUNKS = 8;
/** Segment size in overlaps: the overlap is cut twice, so it stays a small share of the work. */
const SEGMENT_OVERLAPS = 4;
/** More threads than this add memory (segments in flight) without adding speed on the hosts we serve. */
const MAX_WORKERS = 4;

/** One worker a core, up to MAX_WORKERS; segments of 48 MiB with 12 MiB of overlap by default. */
export function parallelDefaults(chunker: ChunkerOptions = CHUNKER_DEFAULTS): ParallelOptions {
  const overlap = chunker.maxSize + OVERLAP_CHUNKS * chunker.avgSize;
  return {
    workers: Math.max(1, Math.min(MAX_WORKERS, availableParallelism())),
    segmentSize: SEGMENT_OVERLAPS * overlap,
    overlap,
  };
}

/** A segment for a worker: the first `length` bytes of the gear memory hold the stream from `base`. */
export interface CutJob {
  readonly memory: WasmMemory;
  readonly length: number;
  readonly base: number;
  /** Chunks starting before this stream offset are not hashed (digest ''): no true chunk starts there. */
  readonly hashFrom: number;
  /** The stream ends with these bytes. */
  readonly final: boolean;
  readonly chunker: ChunkerOptions;
}

/** The chunks a segment decides, cut from its first byte: stream offsets, sizes, digests. */
export interface CutResult {
  readonly offsets: number[];
  readonly sizes: number[];
  readonly digests: string[];
}

/** What a worker runs: cuts the segment from its first byte as far as its bytes decide the cuts. */
export function cutSegment(job: CutJob): CutResult {
  const p = chunkerParams(job.chunker);
  const mem = gearMemoryOf(job.memory, job.length);
  const view = mem.bytes;
  const result: CutResult = { offsets: [], sizes: [], digests: [] };
  let at = 0;
  while (at < job.length) {
    const size = decidedCut(mem, at, job.length, p, job.final);
    if (size === 0) break;
    const offset = job.base + at;
    result.offsets.push(offset);
    result.sizes.push(size);
    result.digests.push(offset >= job.hashFrom ? sha256Hex(view.subarray(at, at + size)) : '');
    at += size;
  }
  return result;
}

/** The worker's module beside this one, with the same extension (.ts from source, .js when built). */
const WORKER_URL = new URL(
  `./chunk-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

/**
 * What the threads are asked: cut a segment; add bytes to a stream's whole-content hash; give the
 * stream's digest (and forget the stream).
 */
export type ThreadRequest =
  | ({ readonly kind: 'cut' } & CutJob)
  | {
      readonly kind: 'hash';
      readonly stream: number;
      readonly buffer: SharedArrayBuffer;
      readonly start: number;
      readonly end: number;
    }
  | { readonly kind: 'digest'; readonly stream: number };

interface Waiter {
  readonly resolve: (answer: unknown) => void;
  readonly reject: (e: Error) => void;
}

/**
 * A worker thread answering requests in the order they were sent. Threads are kept for the next
 * stream (starting one costs a tenth of a second of loading); an idle thread does not keep the
 * process alive.
 */
class Thread {
  readonly #worker = new Worker(WORKER_URL);
  readonly #waiting: Waiter[] = [];
  alive = true;

  constructor() {
    const fail = (e: Error): void => {
      this.alive = false;
      for (const w of this.#waiting.splice(0)) {
        w.reject(new AppError('INTERNAL', `a chunking thread failed: ${e.message}`, { cause: e }));
      }
    };
    this.#worker.on('message', (answer: unknown) => {
      this.#waiting.shift()?.resolve(answer);
      if (this.#waiting.length === 0) this.#worker.unref();
    });
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    this.#worker.unref();
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** The answer to `request`; the caller knows its type from the request's kind. */
  request(request: ThreadRequest): Promise<unknown> {
    const answer = new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
    answer.catch(() => undefined);
    this.#worker.ref();
    this.#worker.postMessage(request);
    return answer;
  }
}

/** The threads of every stream in this process: cutters (as many as asked) and one hasher. */
const threads = { cutters: [] as Thread[], hasher: null as Thread | null, streams: 0 };

function cutThreads(count: number): Thread[] {
  threads.cutters = threads.cutters.filter((t) => t.alive);
  while (threads.cutters.length < count) threads.cutters.push(new Thread());
  return threads.cutters.slice(0, count);
}

function hashThread(): Thread {
  if (threads.hasher?.alive !== true) threads.hasher = new Thread();
  return threads.hasher;
}

/**
 * Reads the next bytes of a stream into `target` from its start: returns how many, fewer than
 * `target.length` only at the end of the stream. A file can read straight into the chunker's memory.
 */
export type Filler = (target: Uint8Array) => Promise<number>;

/** Reads of a file go in pieces of this size at most, so that no read holds a thread for long. */
const FILE_READ = 8 * 1024 * 1024;

/** A Filler reading `handle` from its current position: straight into the chunker's memory. */
function fileFiller(handle: FileHandle): Filler {
  return async (target) => {
    let filled = 0;
    while (filled < target.length) {
      const length = Math.min(target.length - filled, FILE_READ);
      const { bytesRead } = await handle.read(target, filled, length, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  };
}

/** A Filler over pieces of any size, and how to let go of them early. */
function piecesFiller(source: AsyncIterable<Uint8Array>): { fill: Filler; close: () => Promise<void> } {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    fill: async (target) => {
      let filled = 0;
      while (filled < target.length && !done) {
        if (pending.length === 0) {
          const next = await iterator.next();
          if (next.done === true) done = true;
          else pending = next.value;
          continue;
        }
        const take = Math.min(pending.length, target.length - filled);
        target.set(take === pending.length ? pending : pending.subarray(0, take), filled);
        filled += take;
        pending = pending.subarray(take);
      }
      return filled;
    },
    close: async () => {
      if (!done) await iterator.return?.();
    },
  };
}

function checkParallel(o: ParallelOptions, chunker: ChunkerOptions): void {
  if (
    !Number.isSafeInteger(o.workers) ||
    o.workers < 1 ||
    !Number.isSafeInteger(o.segmentSize) ||
    o.segmentSize < 1 ||
    !Number.isSafeInteger(o.overlap) ||
    o.overlap < chunker.maxSize ||
    o.segmentSize + o.overlap > 2 ** 30
  ) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `parallel chunking with ${o.workers} workers, segments of ${o.segmentSize} bytes and ${o.overlap} bytes of overlap: expected at least 1 worker, a segment of at least 1 byte, an overlap of at least the maximum chunk (${chunker.maxSize}), 1 GiB in all at most`,
      { hint: 'use parallelDefaults()' },
    );
  }
}

interface Segment {
  readonly gear: GearMemory;
  readonly view: Uint8Array;
  length: number;
  base: number;
  final: boolean;
  result: Promise<CutResult>;
  /** Settles once the whole-content hash has read the segment's new bytes. */
  hashed: Promise<unknown>;
}

/**
 * The chunks of a stream, in order, in batches (one a segment), and at the end (the generator's
 * return value) the SHA-256 of the whole stream, computed on a thread of its own. A chunk's `bytes`
 * is a view of shared memory that holds until the next batch is asked for: copy what must last.
 */
export async function* chunkBatches(
  source: AsyncIterable<Uint8Array> | Filler,
  chunker: ChunkerOptions = CHUNKER_DEFAULTS,
  parallel: ParallelOptions = parallelDefaults(chunker),
): AsyncGenerator<Chunk[], string> {
  const p = chunkerParams(chunker);
  checkParallel(parallel, chunker);
  const capacity = parallel.overlap + parallel.segmentSize;
  const reader = typeof source === 'function' ? { fill: source, close: null } : piecesFiller(source);
  const free: Segment[] = [];
  let last: Segment | null = null;
  const cutters = cutThreads(parallel.workers);
  const hasher = hashThread();
  const stream = ++threads.streams;
  let digest: string | null = null;

  /** Fills `segment` (the overlap copied from the one before) and sends it to a worker. */
  async function dispatch(segment: Segment): Promise<void> {
    await segment.hashed;
    let fill = 0;
    if (last !== null) {
      fill = parallel.overlap;
      if (last === segment) segment.view.copyWithin(0, last.length - fill, last.length);
      else segment.view.set(last.view.subarray(last.length - fill, last.length));
      segment.base = last.base + last.length - fill;
    }
    const segmentStart = segment.base + fill;
    // A segment not filled holds the end of the stream. One filled exactly may be followed by a
    // last segment of no new bytes: its worker then cuts the overlap, where the rest lies.
    fill += await reader.fill(segment.view.subarray(fill));
    const final = fill < capacity;
    segment.length = fill;
    segment.final = final;
    const cutter = cutters.reduce((a, b) => (b.waiting < a.waiting ? b : a));
    segment.result = cutter.request({
      kind: 'cut',
      memory: segment.gear.memory,
      length: fill,
      base: segment.base,
      hashFrom: last === null ? 0 : segmentStart - p.max,
      final,
      chunker,
    }) as Promise<CutResult>;
    segment.hashed = hasher.request({
      kind: 'hash',
      stream,
      buffer: segment.gear.memory.buffer,
      start: GEAR_BYTES + segmentStart - segment.base,
      end: GEAR_BYTES + fill,
    });
    last = segment;
  }

  // The reader runs on its own, filling segments as they come free, so that reading overlaps with
  // merging and with what the caller does with each batch; the merge below takes them in order.
  const sent: Segment[] = [];
  let segments = 0;
  const reading = { stopped: false, sentFinal: false, failure: null as { readonly error: unknown } | null };
  let wakeReader: (() => void) | null = null;
  let wakeMerger: (() => void) | null = null;
  const wake = (which: 'reader' | 'merger'): void => {
    const resume = which === 'reader' ? wakeReader : wakeMerger;
    if (which === 'reader') wakeReader = null;
    else wakeMerger = null;
    resume?.();
  };
  const readingDone = (async (): Promise<void> => {
    try {
      while (!reading.stopped && !reading.sentFinal) {
        let segment = free.pop();
        if (segment === undefined && segments < parallel.workers + 2) {
          segments++;
          segment = newSegment(capacity);
        }
        if (segment === undefined) {
          await new Promise<void>((resume) => (wakeReader = resume));
          continue;
        }
        await dispatch(segment);
        reading.sentFinal = segment.final;
        sent.push(segment);
        wake('merger');
      }
    } catch (e) {
      reading.failure = { error: e };
    } finally {
      reading.stopped = true;
      wake('merger');
    }
  })();

  try {
    let position = 0;
    for (;;) {
      while (sent.length === 0 && !reading.stopped)
        await new Promise<void>((resume) => (wakeMerger = resume));
      const segment = sent.shift();
      if (segment === undefined) {
        if (reading.failure !== null) throw reading.failure.error;
        digest = (await hasher.request({ kind: 'digest', stream })) as string;
        return digest;
      }
      const result = await segment.result;
      const batch: Chunk[] = [];
      const chunkAt = (offset: number, size: number, digest: string): void => {
        const at = offset - segment.base;
        batch.push({ offset, size, digest, bytes: segment.view.subarray(at, at + size) });
      };
      let index = indexOf(result.offsets, position);
      while (index < 0) {
        const at = position - segment.base;
        const size = decidedCut(segment.gear, at, segment.length, p, segment.final);
        if (size === 0) break;
        chunkAt(position, size, sha256Hex(segment.view.subarray(at, at + size)));
        position += size;
        index = indexOf(result.offsets, position);
      }
      for (let i = index; index >= 0 && i < result.offsets.length; i++) {
        const digest = result.digests[i] ?? '';
        if (digest === '') {
          throw new AppError('INTERNAL', `the chunk at ${position} was not hashed by its chunking thread`);
        }
        position = result.offsets[i] ?? 0;
        const size = result.sizes[i] ?? 0;
        chunkAt(position, size, digest);
        position += size;
      }
      if (batch.length > 0) yield batch;
      free.push(segment);
      wake('reader');
    }
  } finally {
    reading.stopped = true;
    wake('reader');
    await readingDone;
    if (digest === null) {
      // Left before the end: the hasher forgets the stream, the source is closed.
      void hasher.request({ kind: 'digest', stream });
      await reader.close?.();
    }
  }
}

function newSegment(capacity: number): Segment {
  const gear = newGearMemory(capacity);
  return {
    gear,
    view: gear.bytes,
    length: 0,
    base: 0,
    final: false,
    result: Promise.resolve({ offsets: [], sizes: [], digests: [] }),
    hashed: Promise.resolve(),
  };
}

/** The index of `value` in the ascending `sorted`, or -1. */
function indexOf(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid] as number;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Runs `fn` on the chunk batches of the file at `path` (read straight into the chunker's memory)
 * and its size when opened; the batches are ended and the file closed afterwards, whatever happens.
 * A file that cannot be opened is an IO_ERROR.
 */
export async function withFileBatches<T>(
  path: string,
  chunker: ChunkerOptions,
  fn: (batches: AsyncGenerator<Chunk[], string>, size: number) => Promise<T>,
): Promise<T> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new AppError('IO_ERROR', `cannot read ${path}: ${errorText(e)}`, {
      hint: 'check that the file exists and is readable',
      cause: e,
    });
  }
  const batches = chunkBatches(fileFiller(handle), chunker);
  try {
    return await fn(batches, (await handle.stat()).size);
  } finally {
    await batches.return('');
    await handle.close();
  }
}
