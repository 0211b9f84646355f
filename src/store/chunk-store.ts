// Content-addressed storage over a BlobStore: chunks under 'chunks/<sha256>', manifests under
// 'manifests/<sha256 of the manifest>'. A chunk is stored only after its bytes are checked against
// its name, so a stored chunk is what its digest says (until the disk says otherwise: check()).
// readContent() reassembles an artifact's exact bytes, or a range of them, as a stream with a few
// chunks read ahead. gc() removes what no live manifest references, sparing anything younger than a
// grace period so that pushes running meanwhile keep their chunks.

import { Readable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../core/progress.ts';
import type { BlobRange, BlobStore } from './blob-store.ts';
import { CHUNKER_DEFAULTS, type Chunk, type ChunkerOptions } from './chunker.ts';
import { chunkBatches, withFileBatches, type Filler } from './parallel-chunker.ts';
import {
  isDigest,
  MAX_CHUNK_BYTES,
  MANIFEST_SCHEMA_VERSION,
  parseManifest,
  serializeManifest,
  sha256Hex,
  type Manifest,
  type ManifestChunk,
} from './manifest.ts';

const CHUNK_PREFIX = 'chunks/';
const MANIFEST_PREFIX = 'manifests/';
/** Chunks fetched ahead of the one being sent by readContent(). */
const READ_AHEAD = 4;
/** Blob-store requests in flight at once for has()/get() sweeps. */
const PARALLEL = 8;
/** New chunks being written at once by ingest(). */
const WRITES_IN_FLIGHT = 4;

export function chunkKey(digest: string): string {
  return `${CHUNK_PREFIX}${digest}`;
}

export function manifestKey(digest: string): string {
  return `${MANIFEST_PREFIX}${digest}`;
}

function requireDigest(digest: string, what: string): void {
  if (!isDigest(digest)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${what} ${JSON.stringify(digest.slice(0, 80))} is not 64 lower-case hex digits`,
      {
        hint: 'digests are SHA-256 in lower-case hex',
      },
    );
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface IngestResult {
  readonly manifest: Manifest;
  readonly digest: string;
  /** Chunks and bytes that were not in the store before. */
  readonly newChunks: number;
  readonly newBytes: number;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly chunksChecked: number;
  readonly bytesChecked: number;
  readonly manifestsChecked: number;
  /** Chunks whose bytes do not hash to their name. */
  readonly corruptChunks: readonly string[];
  /** Manifests that do not parse or do not hash to their name. */
  readonly corruptManifests: readonly string[];
  /** Chunks a manifest references that are not stored. */
  readonly missingChunks: readonly { readonly manifest: string; readonly chunk: string }[];
}

export interface GcOptions {
  /** Blobs written less than this long ago are kept, referenced or not (a push may be using them). */
  readonly graceSeconds: number;
  /** Chunk digests to keep besides those of the live manifests: the chunks of open uploads. */
  readonly protectedChunks?: Iterable<string>;
  /** Report what would be removed without removing it. */
  readonly dryRun?: boolean;
  readonly onProgress?: ProgressListener;
  /** The time gc runs at, in milliseconds (tests). */
  readonly nowMs?: number;
}

export interface GcReport {
  readonly removedChunks: number;
  readonly removedBytes: number;
  readonly removedManifests: number;
  /** Unreferenced chunks kept because they are younger than the grace period. */
  readonly keptYoung: number;
  /** Temporary files of interrupted writes older than the grace period (filesystem store). */
  readonly removedTemporaries: number;
  readonly liveChunks: number;
}

export interface StoreStats {
  readonly storedBytes: number;
  readonly chunks: number;
}

export class ChunkStore {
  readonly blobs: BlobStore;
  readonly chunker: ChunkerOptions;

  constructor(blobs: BlobStore, chunker: ChunkerOptions = CHUNKER_DEFAULTS) {
    this.blobs = blobs;
    this.chunker = chunker;
  }

  async hasChunk(digest: string): Promise<boolean> {
    requireDigest(digest, 'chunk digest');
    return this.blobs.has(chunkKey(digest));
  }

  /**
   * Stores a chunk after checking that its bytes hash to `digest`; a mismatch stores nothing and
   * throws FORMAT_INVALID. Returns whether the chunk was new.
   */
  async putChunk(digest: string, bytes: Uint8Array): Promise<boolean> {
    requireDigest(digest, 'chunk digest');
    if (bytes.length === 0 || bytes.length > MAX_CHUNK_BYTES) {
      throw new AppError(
        bytes.length === 0 ? 'FORMAT_INVALID' : 'LIMIT_EXCEEDED',
        `chunk ${digest} has ${bytes.length} bytes, expected 1 to ${MAX_CHUNK_BYTES}`,
        { hint: 'send chunks as the chunker cut them' },
      );
    }
    const actual = sha256Hex(bytes);
    if (actual !== digest) {
      throw new AppError('FORMAT_INVALID', `chunk named ${digest} has content whose SHA-256 is ${actual}`, {
        hint: 'the chunk was damaged on the way: send it again',
      });
    }
    return this.#store(digest, bytes);
  }

  /** Stores bytes already known to hash to `digest`; returns whether they were new. */
  async #store(digest: string, bytes: Uint8Array): Promise<boolean> {
    const key = chunkKey(digest);
    if (await this.blobs.has(key)) return false;
    await this.blobs.put(key, bytes);
    return true;
  }

  /** A chunk's bytes, checked against its digest (FORMAT_INVALID when they differ). */
  async getChunk(digest: string): Promise<Uint8Array> {
    requireDigest(digest, 'chunk digest');
    const bytes = await this.blobs.get(chunkKey(digest));
    const actual = sha256Hex(bytes);
    if (actual !== digest) {
      throw new AppError('FORMAT_INVALID', `stored chunk ${digest} has content whose SHA-256 is ${actual}`, {
        hint: "the store is damaged: run 'winsmith store check', then push the artifact again",
      });
    }
    return bytes;
  }

  /** The digests among `digests` that are not stored, each once, in first-seen order. */
  async missing(digests: Iterable<string>): Promise<string[]> {
    const unique = [...new Set(digests)];
    for (const d of unique) requireDigest(d, 'chunk digest');
    const present = await mapLimit(unique, PARALLEL, (d) => this.blobs.has(chunkKey(d)));
    return unique.filter((_, i) => present[i] !== true);
  }

  /** Stores a manifest (after checking it) and returns its digest. */
  async putManifest(manifest: Manifest): Promise<string> {
    const bytes = serializeManifest(manifest);
    parseManifest(bytes);
    const digest = sha256Hex(bytes);
    await this.blobs.put(manifestKey(digest), bytes);
    return digest;
  }

  /** The manifest named `digest`, checked against its name; NOT_FOUND when absent. */
  async getManifest(digest: string): Promise<Manifest> {
    requireDigest(digest, 'manifest digest');
    const bytes = await this.blobs.get(manifestKey(digest));
    const actual = sha256Hex(bytes);
    if (actual !== digest) {
      throw new AppError(
        'FORMAT_INVALID',
        `stored manifest ${digest} has content whose SHA-256 is ${actual}`,
        {
          hint: "the store is damaged: run 'winsmith store check'",
        },
      );
    }
    return parseManifest(bytes);
  }

  async hasManifest(digest: string): Promise<boolean> {
    requireDigest(digest, 'manifest digest');
    return this.blobs.has(manifestKey(digest));
  }

  /**
   * Chunks a stream, stores the chunks it lacks, then the manifest. Returns the manifest, its
   * digest and what was new. Cutting and hashing run on worker threads (chunkBatches); existence
   * checks and writes go a segment at a time (a few in flight) while the threads cut the next
   * segments. Where the store has batches (filesystem), new chunks are written in one, so that they
   * reach the disk together and appear only then, before the manifest that references them.
   */
  async ingest(
    source: AsyncIterable<Uint8Array> | Filler,
    mediaType: string,
    onProgress: ProgressListener = ignoreProgress,
    total = 0,
  ): Promise<IngestResult> {
    return this.ingestBatches(chunkBatches(source, this.chunker), mediaType, onProgress, total);
  }

  /** ingest() of a file, read straight into the chunker's memory. */
  async ingestFile(
    path: string,
    mediaType: string,
    onProgress: ProgressListener = ignoreProgress,
  ): Promise<IngestResult> {
    return withFileBatches(path, this.chunker, (batches, size) =>
      this.ingestBatches(batches, mediaType, onProgress, size),
    );
  }

  private async ingestBatches(
    batches: AsyncGenerator<Chunk[], string>,
    mediaType: string,
    onProgress: ProgressListener,
    total: number,
  ): Promise<IngestResult> {
    const chunks: ManifestChunk[] = [];
    const seen = new Set<string>();
    let newChunks = 0;
    let newBytes = 0;
    let size = 0;
    let sha256: string;
    const batch = this.blobs.batch?.() ?? null;
    let committed = false;
    try {
      for (;;) {
        const next = await batches.next();
        if (next.done === true) {
          sha256 = next.value;
          break;
        }
        const fresh = [];
        for (const chunk of next.value) {
          chunks.push({ digest: chunk.digest, size: chunk.size });
          size += chunk.size;
          if (!seen.has(chunk.digest)) {
            seen.add(chunk.digest);
            fresh.push(chunk);
          }
        }
        const stored = await mapLimit(fresh, PARALLEL, (c) => this.blobs.has(chunkKey(c.digest)));
        const missing = fresh.filter((_, i) => stored[i] !== true);
        // Written from the chunker's memory, which holds until the next batch is asked for; every
        // write settles before a failure goes up (and the batch is aborted).
        const failures: Error[] = [];
        await mapLimit(missing, WRITES_IN_FLIGHT, (c) =>
          (batch ?? this.blobs).put(chunkKey(c.digest), c.bytes).catch((e: unknown) => {
            failures.push(e instanceof Error ? e : new AppError('IO_ERROR', String(e)));
          }),
        );
        if (failures[0] !== undefined) throw failures[0];
        newChunks += missing.length;
        newBytes += missing.reduce((n, c) => n + c.size, 0);
        onProgress({ phase: 'Storing chunks', done: size, total: Math.max(total, size), unit: 'bytes' });
      }
      await batch?.commit();
      committed = true;
    } finally {
      await batches.return('');
      if (!committed) await batch?.abort();
    }
    const manifest: Manifest = {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      mediaType,
      size,
      sha256,
      chunks,
    };
    const digest = await this.putManifest(manifest);
    return { manifest, digest, newChunks, newBytes };
  }

  /**
   * The content of `manifest` (or the bytes `range.start`..`range.end`, both included) as a
   * stream of exact bytes. Chunk sizes are checked as they arrive; digests only when `verify` is set.
   */
  readContent(manifest: Manifest, range?: BlobRange, options: { readonly verify?: boolean } = {}): Readable {
    if (range !== undefined) {
      if (
        !Number.isSafeInteger(range.start) ||
        !Number.isSafeInteger(range.end) ||
        range.start < 0 ||
        range.end < range.start ||
        range.end >= manifest.size
      ) {
        throw new AppError(
          'INVALID_ARGUMENT',
          `range ${range.start}-${range.end} is not within content of ${manifest.size} bytes`,
          { hint: 'ask for a range with 0 <= start <= end < size' },
        );
      }
    }
    const start = range?.start ?? 0;
    const end = range === undefined ? manifest.size : range.end + 1;
    // First chunk: the last one starting at or before `start` (binary search on offsets).
    const offsets = new Array<number>(manifest.chunks.length);
    let acc = 0;
    manifest.chunks.forEach((c, i) => {
      offsets[i] = acc;
      acc += c.size;
    });
    let lo = 0;
    let hi = manifest.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((offsets[mid] as number) <= start) lo = mid;
      else hi = mid - 1;
    }
    const first = lo;
    const fetch = async (i: number): Promise<Uint8Array> => {
      const c = manifest.chunks[i] as ManifestChunk;
      const bytes =
        options.verify === true ? await this.getChunk(c.digest) : await this.blobs.get(chunkKey(c.digest));
      if (bytes.length !== c.size) {
        throw new AppError(
          'FORMAT_INVALID',
          `stored chunk ${c.digest} has ${bytes.length} bytes, the manifest says ${c.size}`,
          {
            hint: "the store is damaged: run 'winsmith store check'",
          },
        );
      }
      return bytes;
    };
    async function* generate(): AsyncGenerator<Uint8Array> {
      if (start >= end) return;
      const queue: Promise<Uint8Array>[] = [];
      let nextIndex = first;
      const fill = (): void => {
        while (
          queue.length < READ_AHEAD &&
          nextIndex < manifest.chunks.length &&
          (offsets[nextIndex] as number) < end
        ) {
          const p = fetch(nextIndex++);
          p.catch(() => undefined);
          queue.push(p);
        }
      };
      let index = first;
      fill();
      while (queue.length > 0) {
        const bytes = await (queue.shift() as Promise<Uint8Array>);
        fill();
        const chunkStart = offsets[index] as number;
        index++;
        const from = Math.max(start - chunkStart, 0);
        const to = Math.min(end - chunkStart, bytes.length);
        yield from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to);
      }
    }
    return Readable.from(generate(), { objectMode: false, highWaterMark: 1 });
  }

  /**
   * Reads every stored chunk and checks it against its name, then every manifest (or those given)
   * and that each chunk it references is stored.
   */
  async check(
    options: { readonly manifests?: Iterable<string>; readonly onProgress?: ProgressListener } = {},
  ): Promise<CheckReport> {
    const onProgress = options.onProgress ?? ignoreProgress;
    const infos = [];
    for await (const info of this.blobs.listInfo(CHUNK_PREFIX)) infos.push(info);
    const totalBytes = infos.reduce((s, i) => s + i.size, 0);
    const corruptChunks: string[] = [];
    let bytesChecked = 0;
    const stored = new Set<string>();
    await mapLimit(infos, 2, async (info) => {
      const digest = info.key.slice(CHUNK_PREFIX.length);
      stored.add(digest);
      let bytes: Uint8Array | null = null;
      try {
        bytes = await this.blobs.get(info.key);
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'NOT_FOUND')) throw e;
      }
      if (bytes === null) {
        stored.delete(digest);
        return;
      }
      if (!isDigest(digest) || sha256Hex(bytes) !== digest) corruptChunks.push(digest);
      bytesChecked += bytes.length;
      onProgress({ phase: 'Checking chunks', done: bytesChecked, total: totalBytes, unit: 'bytes' });
    });
    const manifestDigests: string[] = [];
    if (options.manifests === undefined) {
      for await (const key of this.blobs.list(MANIFEST_PREFIX))
        manifestDigests.push(key.slice(MANIFEST_PREFIX.length));
    } else {
      manifestDigests.push(...options.manifests);
    }
    const corruptManifests: string[] = [];
    const missingChunks: { manifest: string; chunk: string }[] = [];
    let done = 0;
    for (const digest of manifestDigests) {
      let manifest: Manifest;
      try {
        manifest = await this.getManifest(digest);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        if (e.code === 'NOT_FOUND') missingChunks.push({ manifest: digest, chunk: '(manifest)' });
        else corruptManifests.push(digest);
        continue;
      }
      for (const c of new Set(manifest.chunks.map((x) => x.digest))) {
        if (!stored.has(c)) missingChunks.push({ manifest: digest, chunk: c });
      }
      onProgress({ phase: 'Checking manifests', done: ++done, total: manifestDigests.length, unit: 'items' });
    }
    corruptChunks.sort();
    return {
      ok: corruptChunks.length === 0 && corruptManifests.length === 0 && missingChunks.length === 0,
      chunksChecked: infos.length,
      bytesChecked,
      manifestsChecked: manifestDigests.length,
      corruptChunks,
      corruptManifests,
      missingChunks,
    };
  }

  /**
   * Removes chunks and manifests that no live manifest references and that are older than the
   * grace period. The store is listed first and the live set read after, so anything a push
   * stores while gc runs is either younger than the grace period or referenced.
   */
  async gc(
    liveManifests: Iterable<string> | (() => Promise<Iterable<string>>),
    options: GcOptions,
  ): Promise<GcReport> {
    if (!Number.isFinite(options.graceSeconds) || options.graceSeconds < 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `grace period ${options.graceSeconds} s is not a number of seconds >= 0`,
        {
          hint: 'give the grace period in seconds, e.g. 3600',
        },
      );
    }
    const onProgress = options.onProgress ?? ignoreProgress;
    const cutoff = (options.nowMs ?? Date.now()) - options.graceSeconds * 1000;
    const chunkInfos = [];
    for await (const info of this.blobs.listInfo(CHUNK_PREFIX)) chunkInfos.push(info);
    const manifestInfos = [];
    for await (const info of this.blobs.listInfo(MANIFEST_PREFIX)) manifestInfos.push(info);
    const live = new Set(typeof liveManifests === 'function' ? await liveManifests() : liveManifests);
    const liveChunks = new Set<string>(options.protectedChunks ?? []);
    for (const digest of live) {
      const manifest = await this.getManifest(digest);
      for (const c of manifest.chunks) liveChunks.add(c.digest);
    }
    let removedChunks = 0;
    let removedBytes = 0;
    let removedManifests = 0;
    let keptYoung = 0;
    const doomed = chunkInfos.filter((info) => !liveChunks.has(info.key.slice(CHUNK_PREFIX.length)));
    let done = 0;
    for (const info of doomed) {
      if (info.modifiedMs >= cutoff) {
        keptYoung++;
        continue;
      }
      if (options.dryRun !== true) await this.blobs.delete(info.key);
      removedChunks++;
      removedBytes += info.size;
      onProgress({ phase: 'Removing chunks', done: ++done, total: doomed.length, unit: 'items' });
    }
    for (const info of manifestInfos) {
      if (live.has(info.key.slice(MANIFEST_PREFIX.length)) || info.modifiedMs >= cutoff) continue;
      if (options.dryRun !== true) await this.blobs.delete(info.key);
      removedManifests++;
    }
    const removedTemporaries =
      options.dryRun === true || this.blobs.removeStaleTemporaries === undefined
        ? 0
        : await this.blobs.removeStaleTemporaries(cutoff);
    return {
      removedChunks,
      removedBytes,
      removedManifests,
      keptYoung,
      removedTemporaries,
      liveChunks: liveChunks.size,
    };
  }

  /** Bytes and count of the chunks stored. */
  async stats(): Promise<StoreStats> {
    let storedBytes = 0;
    let chunks = 0;
    for await (const info of this.blobs.listInfo(CHUNK_PREFIX)) {
      storedBytes += info.size;
      chunks++;
    }
    return { storedBytes, chunks };
  }
}
