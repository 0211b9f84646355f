// BlobStore on a local directory. A key 'chunks/0123abcd…' lives at <root>/chunks/01/23/0123abcd…
// (fan-out on the first four characters keeps directories small). A blob is written to a temporary
// file beside its place ('.tmp-…', never listed), flushed to disk, renamed into place, and the
// directory flushed: after a crash a blob is whole or absent. A batch (ingest) does the same with
// one pass of flushes for all its blobs.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { AppError, errorText } from '../core/errors.ts';
import {
  blobNotFound,
  checkBlobKey,
  checkBlobRange,
  type BlobBatch,
  type BlobInfo,
  type BlobRange,
  type BlobStore,
} from './blob-store.ts';

const TEMP_PREFIX = '.tmp-';

function isNotFound(e: unknown): boolean {
  return e instanceof Error && 'code' in e && (e.code === 'ENOENT' || e.code === 'ENOTDIR');
}

function ioError(what: string, e: unknown): AppError {
  return new AppError('IO_ERROR', `${what}: ${errorText(e)}`, {
    hint: 'check the data directory: permissions, free space',
    cause: e,
  });
}

/**
 * Files of a batch being flushed at once: enough to keep the disk busy, few enough to leave the
 * thread pool free for reading what is being stored.
 */
const FLUSH_LANES = 2;

/** A blob written to a temporary file beside its place, not yet renamed into it. */
interface Aside {
  readonly temp: string;
  readonly path: string;
  readonly dir: string;
}

/** fsync of a file or a folder (a folder's entries: the names renamed into it). */
async function flushToDisk(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface FsBlobStoreOptions {
  /** Flush each blob and its directory to disk before put() returns (default true). */
  readonly fsync?: boolean;
}

export class FsBlobStore implements BlobStore {
  readonly root: string;
  readonly location: string;
  readonly #fsync: boolean;
  readonly #knownDirs = new Set<string>();

  constructor(root: string, options: FsBlobStoreOptions = {}) {
    this.root = resolve(root);
    this.location = this.root;
    this.#fsync = options.fsync ?? true;
  }

  /** The file holding `key`. */
  pathOf(key: string): string {
    checkBlobKey(key);
    const slash = key.lastIndexOf('/');
    const dir = key.slice(0, slash + 1);
    const name = key.slice(slash + 1);
    return join(this.root, dir, name.slice(0, 2), name.slice(2, 4), name);
  }

  async has(key: string): Promise<boolean> {
    return (await this.size(key)) !== null;
  }

  /** Callers that want to skip a blob already there ask has() first (ChunkStore does): no second look here. */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    const aside = await this.#writeAside(key, bytes, this.#fsync);
    try {
      await rename(aside.temp, aside.path);
      if (this.#fsync) await flushToDisk(aside.dir);
    } catch (e) {
      await rm(aside.temp, { force: true });
      throw ioError(`cannot store blob ${key} in ${this.location}`, e);
    }
  }

  /**
   * Blobs are written aside as by put(); the files are flushed in the background as the batch goes
   * (FLUSH_LANES at a time). commit() waits for the last flushes, renames every file into place,
   * then flushes each folder once: a blob is visible only once it is on disk, and it is on disk
   * whole before commit() returns. A crash before leaves temporary files only (removed by gc).
   */
  batch(): BlobBatch {
    const written: Aside[] = [];
    const lanes: Promise<void>[] = Array.from({ length: FLUSH_LANES }, () => Promise.resolve());
    const flushed = (): Promise<unknown> => Promise.all(lanes);
    return {
      put: async (key, bytes) => {
        const aside = await this.#writeAside(key, bytes, false);
        written.push(aside);
        if (this.#fsync) {
          const lane = written.length % FLUSH_LANES;
          const flush = (lanes[lane] ?? Promise.resolve()).then(() => flushToDisk(aside.temp));
          flush.catch(() => undefined);
          lanes[lane] = flush;
        }
      },
      commit: async () => {
        try {
          await flushed();
          await Promise.all(written.map((a) => rename(a.temp, a.path)));
          if (this.#fsync) await Promise.all([...new Set(written.map((a) => a.dir))].map(flushToDisk));
        } catch (e) {
          throw ioError(`cannot store ${written.length} blobs in ${this.location}`, e);
        }
        written.length = 0;
      },
      abort: async () => {
        await Promise.allSettled(lanes);
        await Promise.all(written.map((a) => rm(a.temp, { force: true })));
        written.length = 0;
      },
    };
  }

  /** Writes `bytes` to a new temporary file in the folder of `key`, flushed to disk if `sync`. */
  async #writeAside(key: string, bytes: Uint8Array, sync: boolean): Promise<Aside> {
    const path = this.pathOf(key);
    const dir = path.slice(0, path.lastIndexOf('/'));
    const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      if (!this.#knownDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.#knownDirs.add(dir);
      }
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(bytes);
        if (sync) await file.sync();
      } finally {
        await file.close();
      }
    } catch (e) {
      await rm(temp, { force: true });
      throw ioError(`cannot store blob ${key} in ${this.location}`, e);
    }
    return { temp, path, dir };
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (e) {
      if (isNotFound(e)) throw blobNotFound(key, this.location);
      throw ioError(`cannot read blob ${key} in ${this.location}`, e);
    }
  }

  getStream(key: string, range?: BlobRange): Readable {
    const path = this.pathOf(key);
    const location = this.location;
    async function* read(): AsyncGenerator<Uint8Array> {
      let file;
      try {
        file = await open(path, 'r');
      } catch (e) {
        if (isNotFound(e)) throw blobNotFound(key, location);
        throw ioError(`cannot read blob ${key} in ${location}`, e);
      }
      try {
        const { size } = await file.stat();
        if (range !== undefined) checkBlobRange(key, range, size);
        if (size === 0) return;
        // Reads of up to 1 MiB (a chunk's size, by default) rather than the stream's 64 KiB.
        const stream = file.createReadStream({
          start: range?.start ?? 0,
          end: range?.end ?? size - 1,
          autoClose: false,
          highWaterMark: 1024 * 1024,
        });
        for await (const piece of stream) yield piece as Uint8Array;
      } finally {
        await file.close();
      }
    }
    return Readable.from(read(), { objectMode: false });
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await rm(path, { force: true });
    } catch (e) {
      throw ioError(`cannot delete blob ${key} in ${this.location}`, e);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const entry of this.#walk(prefix, false)) yield entry.key;
  }

  listInfo(prefix: string): AsyncIterable<BlobInfo> {
    return this.#walk(prefix, true);
  }

  async size(key: string): Promise<number | null> {
    const path = this.pathOf(key);
    try {
      return (await stat(path)).size;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw ioError(`cannot read blob ${key} in ${this.location}`, e);
    }
  }

  async removeStaleTemporaries(beforeMs: number): Promise<number> {
    let removed = 0;
    const stack = [this.root];
    while (stack.length > 0) {
      const dir = stack.pop() ?? this.root;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isNotFound(e)) continue;
        throw ioError(`cannot list ${this.location}`, e);
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) stack.push(path);
        else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
          try {
            if ((await stat(path)).mtimeMs >= beforeMs) continue;
            await rm(path, { force: true });
            removed++;
          } catch (e) {
            if (!isNotFound(e)) throw ioError(`cannot remove ${path}`, e);
          }
        }
      }
    }
    return removed;
  }

  /**
   * Walks the directory of the prefix's complete segments. A file at <dirs>/<ab>/<cd>/<name> is the
   * key <dirs>/<name>; the two fan-out levels are recognised by their depth below each file.
   */
  async *#walk(prefix: string, withInfo: boolean): AsyncGenerator<BlobInfo> {
    const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const stack: string[][] = [base === '' ? [] : base.slice(0, -1).split('/')];
    while (stack.length > 0) {
      const segments = stack.pop() ?? [];
      let entries;
      try {
        entries = await readdir(join(this.root, ...segments), { withFileTypes: true });
      } catch (e) {
        if (isNotFound(e)) continue;
        throw ioError(`cannot list ${this.location}`, e);
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        if (entry.isDirectory()) {
          stack.push([...segments, entry.name]);
          continue;
        }
        if (!entry.isFile() || segments.length < 2) continue;
        const key = [...segments.slice(0, -2), entry.name].join('/');
        if (!key.startsWith(prefix)) continue;
        if (!withInfo) {
          yield { key, size: 0, modifiedMs: 0 };
          continue;
        }
        try {
          const s = await stat(join(this.root, ...segments, entry.name));
          yield { key, size: s.size, modifiedMs: s.mtimeMs };
        } catch (e) {
          if (!isNotFound(e)) throw ioError(`cannot list ${this.location}`, e);
        }
      }
    }
  }
}
