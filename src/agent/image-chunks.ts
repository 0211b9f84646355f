// The deployment's image as a ByteSource over its manifest's chunks, fetched from the server as
// they are needed: any range is answered from whole chunks, each checked against its SHA-256 digest
// before one byte of it is used, kept in a small least-recently-used cache (bounded in bytes),
// with the next chunks fetched ahead of a reader that goes forward: as the kernel's readahead
// does, the window opens when a read follows the one before, doubles while reads go on in order
// (wimlib applies a WIM's resources in file order; reads in flight at once come a little out of
// order), and closes on a jump (the header, the XML and the blob table are read here and there).
// The memory of a chunk that leaves the cache holds the next chunk fetched: hundreds of MB pass
// through a few dozen buffers, so that no new memory is touched, and nothing is left to collect,
// once the cache is full. So the bytes a read is given stay valid only until it next awaits.
// The fetcher tries again after passing failures itself; a failure that reaches here (a chunk that
// does not match its digest, a server gone for good) fails every later read too, and stays as
// `failure` for the deployment to report.

import { hash } from 'node:crypto';
import { BufferPool, sizeClass } from '../core/buffer-pool.ts';
import { checkRange, type ByteSource } from '../core/byte-source.ts';
import { AppError } from '../core/errors.ts';
import type { Manifest, ManifestChunk } from '../store/manifest.ts';

/**
 * Fetches the bytes of chunk `index` (the server's answer, not yet checked): into `into` (the
 * chunk's size, memory of chunks that left the cache) when it can, else into memory of its own.
 */
export type ChunkFetcher = (chunk: ManifestChunk, index: number, into: Uint8Array) => Promise<Uint8Array>;

export interface ImageChunksOptions {
  /** Bytes of verified chunks kept in memory (at least two of the largest chunks are kept). */
  readonly cacheBytes: number;
  /** The most bytes fetched ahead of the last chunk read (0: none). */
  readonly readAheadBytes: number;
}

/** The window when reads start going in order; it doubles from there. */
const MIN_WINDOW = 256 * 1024;

export const IMAGE_CHUNKS_DEFAULTS: ImageChunksOptions = {
  cacheBytes: 32 * 1024 * 1024,
  readAheadBytes: 16 * 1024 * 1024,
};

export class ImageChunks implements ByteSource {
  readonly size: number;
  readonly #chunks: readonly ManifestChunk[];
  /** Where each chunk starts; one more entry, the size. */
  readonly #starts: Float64Array;
  readonly #fetch: ChunkFetcher;
  readonly #options: ImageChunksOptions;
  /** Verified chunks, least recently used first (a Map keeps insertion order). */
  readonly #cache = new Map<number, Uint8Array>();
  /** Cached chunks fetched ahead that no read has had yet. */
  readonly #unread = new Set<number>();
  #cachedBytes = 0;
  readonly #inFlight = new Map<number, Promise<Uint8Array>>();
  /** Memory for chunks: that of chunks dropped from the cache holds the next ones. */
  readonly #memory: BufferPool;
  #failure: AppError | null = null;
  #fetchedBytes = 0;
  /** The last chunk read (none yet), and the bytes to fetch ahead of it. */
  #lastRead: number | null = null;
  #window = 0;

  constructor(manifest: Manifest, fetch: ChunkFetcher, options: ImageChunksOptions = IMAGE_CHUNKS_DEFAULTS) {
    this.size = manifest.size;
    this.#chunks = manifest.chunks;
    this.#fetch = fetch;
    this.#options = options;
    this.#starts = new Float64Array(manifest.chunks.length + 1);
    // In one pass (a manifest may list millions of chunks: too many to spread into Math.max).
    let at = 0;
    let largest = 0;
    manifest.chunks.forEach((c, i) => {
      this.#starts[i] = at;
      at += c.size;
      largest = Math.max(largest, c.size);
    });
    this.#starts[manifest.chunks.length] = at;
    // Spare: as much as the cache holds, and two of the largest chunks.
    this.#memory = new BufferPool(options.cacheBytes + 2 * sizeClass(largest));
  }

  /** What made the image unreadable, or null while it reads. */
  get failure(): AppError | null {
    return this.#failure;
  }

  /** Bytes of verified chunks received so far (a chunk fetched twice counts twice). */
  get fetchedBytes(): number {
    return this.#fetchedBytes;
  }

  /** Makes every later read fail with `error` (the first failure stays). */
  fail(error: AppError): void {
    this.#failure ??= error;
  }

  /** The index of the chunk holding byte `offset`. */
  chunkIndexAt(offset: number): number {
    let low = 0;
    let high = this.#chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if ((this.#starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length, 'the image');
    const out = new Uint8Array(length);
    let filled = 0;
    for await (const piece of this.pieces(offset, offset + length)) {
      out.set(piece, filled);
      filled += piece.byteLength;
    }
    return out;
  }

  /**
   * The bytes of [start, end) as views of whole chunks, in order. Each is valid until the caller
   * next awaits (this iterator too): use or copy it at once.
   */
  async *pieces(start: number, end: number): AsyncGenerator<Uint8Array> {
    checkRange(this.size, start, end - start, 'the image');
    let at = start;
    while (at < end) {
      const index = this.chunkIndexAt(at);
      const bytes = await this.chunk(index);
      const chunkStart = this.#starts[index] ?? 0;
      const from = at - chunkStart;
      const to = Math.min(bytes.byteLength, end - chunkStart);
      yield bytes.subarray(from, to);
      at = chunkStart + to;
    }
  }

  /** Chunk `index`, verified; fetches the chunks after it ahead of time when reads go in order. */
  async chunk(index: number): Promise<Uint8Array> {
    if (this.#failure !== null) throw this.#failure;
    this.#follow(index);
    const cached = this.#cache.get(index);
    if (cached !== undefined) {
      this.#cache.delete(index);
      this.#cache.set(index, cached);
      this.#unread.delete(index);
      this.#readAhead(index);
      return cached;
    }
    const pending = this.#inFlight.get(index) ?? this.#start(index);
    this.#readAhead(index);
    try {
      const bytes = await pending;
      this.#unread.delete(index);
      return bytes;
    } catch (e) {
      const error =
        e instanceof AppError ? e : new AppError('INTERNAL', `chunk ${index}: ${String(e)}`, { cause: e });
      this.fail(error);
      throw error;
    }
  }

  #start(index: number): Promise<Uint8Array> {
    const chunk = this.#chunks[index];
    if (chunk === undefined)
      return Promise.reject(new AppError('INTERNAL', `the image has no chunk ${index}`));
    const into = this.#memory.take(chunk.size);
    const pending = this.#fetch(chunk, index, into).then(
      (bytes) => {
        if (bytes.buffer !== into.buffer) this.#memory.give(into);
        try {
          this.#verify(chunk, index, bytes);
        } catch (e) {
          this.#memory.give(bytes);
          throw e;
        }
        this.#fetchedBytes += bytes.byteLength;
        this.#remember(index, bytes);
        return bytes;
      },
      (e: unknown) => {
        this.#memory.give(into);
        throw e;
      },
    );
    this.#inFlight.set(index, pending);
    const forget = (): void => {
      this.#inFlight.delete(index);
    };
    pending.then(forget, forget);
    return pending;
  }

  #verify(chunk: ManifestChunk, index: number, bytes: Uint8Array): void {
    const where = `chunk ${index} (${chunk.digest}) of the image`;
    if (bytes.byteLength !== chunk.size) {
      throw new AppError('FORMAT_INVALID', `${where} is ${bytes.byteLength} bytes, expected ${chunk.size}`, {
        hint: 'check the store on the server: winsmith store check',
      });
    }
    const actual = hash('sha256', bytes);
    if (actual !== chunk.digest) {
      throw new AppError('FORMAT_INVALID', `${where} has SHA-256 ${actual}, expected its digest`, {
        hint: 'the server sent a corrupt chunk: run winsmith store check on the server',
      });
    }
  }

  /**
   * Keeps a chunk just fetched; makes room by dropping chunks already read, least recently used
   * first, and chunks fetched ahead only when no other is left: a chunk fetched ahead but dropped
   * before its read would be fetched twice.
   */
  #remember(index: number, bytes: Uint8Array): void {
    if (this.#cache.has(index)) return;
    this.#cache.set(index, bytes);
    this.#unread.add(index);
    this.#cachedBytes += bytes.byteLength;
    for (const unreadToo of [false, true]) {
      for (const [old, oldBytes] of this.#cache) {
        if (this.#cachedBytes <= this.#options.cacheBytes || this.#cache.size <= 2) return;
        if (this.#unread.has(old) && !unreadToo) continue;
        this.#cache.delete(old);
        this.#unread.delete(old);
        this.#cachedBytes -= oldBytes.byteLength;
        this.#memory.give(oldBytes);
      }
    }
  }

  /**
   * Opens, widens or closes the read-ahead window for a read of chunk `index`. Reads in flight at
   * once (the kernel's read-ahead on the mount, nbdfuse's threads) arrive in any order: a read a
   * little behind the furthest one, or a little past it, still goes in order; only a read beyond
   * the window (the header, the XML, the blob table) is a jump that closes it.
   */
  #follow(index: number): void {
    const last = this.#lastRead;
    const gap = last === null ? Number.POSITIVE_INFINITY : this.#startOf(index) - this.#startOf(last);
    const reach = Math.max(this.#window, MIN_WINDOW);
    if (last !== null && index > last && (index === last + 1 || gap <= reach)) {
      this.#window = Math.min(this.#options.readAheadBytes, Math.max(2 * this.#window, MIN_WINDOW));
      this.#lastRead = index;
    } else if (last !== null && index <= last && -gap < reach) {
      return;
    } else {
      this.#window = 0;
      this.#lastRead = index;
    }
  }

  #startOf(index: number): number {
    return this.#starts[index] ?? 0;
  }

  /** Starts fetching the chunks after `index` within the window; their failures wait for a read. */
  #readAhead(index: number): void {
    if (this.#failure !== null) return;
    let ahead = 0;
    for (let next = index + 1; next < this.#chunks.length && ahead < this.#window; next++) {
      ahead += this.#chunks[next]?.size ?? 0;
      if (this.#cache.has(next) || this.#inFlight.has(next)) continue;
      this.#start(next).catch(() => undefined);
    }
  }
}
