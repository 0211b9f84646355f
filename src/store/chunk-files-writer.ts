// Sends a range of an artifact's content from the chunk files of a filesystem blob store straight
// into a Writable (an HTTP response): each pull reads with positioned reads into two buffers it
// keeps, one being filled while the other is written, so a pull holds 2 × SEND_BUFFER_BYTES
// whatever its size and allocates nothing per read (no garbage for the collector at hundreds of
// MB/s). A buffer spans chunk boundaries, so the socket sees few large writes. The next chunk file
// is opened while the current one is read; each file's size is checked against the manifest.

import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { BufferPool } from '../core/buffer-pool.ts';
import { AppError } from '../core/errors.ts';
import { blobNotFound } from './blob-store.ts';
import type { FsBlobStore } from './blob-store-fs.ts';

/** Bytes per buffer; a pull has two. Large writes keep per-write costs low on the socket. */
export const SEND_BUFFER_BYTES = 1024 * 1024;
/** Buffers kept for the next pulls when a pull ends (enough for 8 at once), so memory stays flat. */
const sendBuffers = new BufferPool(16 * SEND_BUFFER_BYTES);

/** Bytes [from, to] (both included) of one chunk of `size` bytes. */
export interface ChunkSegment {
  readonly digest: string;
  readonly key: string;
  readonly size: number;
  readonly from: number;
  readonly to: number;
}

function wrongSize(digest: string, expected: number, found: number): AppError {
  return new AppError(
    'FORMAT_INVALID',
    `chunk ${digest} has ${found} bytes where ${expected} were expected`,
    {
      hint: "run 'winsmith store check'",
    },
  );
}

/** Opens a segment's chunk file and checks its size; never an unhandled rejection when not awaited yet. */
function openSegment(blobs: FsBlobStore, segment: ChunkSegment): Promise<FileHandle> {
  const opening = (async () => {
    let handle: FileHandle;
    try {
      handle = await open(blobs.pathOf(segment.key), 'r');
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === 'ENOENT')
        throw blobNotFound(segment.key, blobs.location);
      throw new AppError('IO_ERROR', `cannot read blob ${segment.key} in ${blobs.location}: ${String(e)}`, {
        hint: 'check the data directory: permissions, free space',
        cause: e,
      });
    }
    const { size } = await handle.stat();
    if (size !== segment.size) {
      await handle.close();
      throw wrongSize(segment.digest, segment.size, size);
    }
    return handle;
  })();
  opening.catch(() => undefined);
  return opening;
}

/** Reads the segments in order into the buffers it is given, opening one file ahead. */
class SegmentReader {
  readonly #blobs: FsBlobStore;
  readonly #segments: readonly ChunkSegment[];
  #index = 0;
  #current: FileHandle | undefined;
  #position = 0;
  #next: Promise<FileHandle> | undefined;
  /** Files read to their end close in the background; this settles when they have. */
  #closed: Promise<unknown> = Promise.resolve();

  constructor(blobs: FsBlobStore, segments: readonly ChunkSegment[]) {
    this.#blobs = blobs;
    this.#segments = segments;
    const first = segments[0];
    if (first !== undefined) this.#next = openSegment(blobs, first);
  }

  /** Fills `buffer` from where the last call stopped; returns the bytes put in (0 at the end). */
  async fill(buffer: Buffer): Promise<number> {
    let filled = 0;
    while (filled < buffer.length) {
      const segment = this.#segments[this.#index];
      if (segment === undefined) break;
      if (this.#current === undefined) {
        this.#current = await this.#next;
        this.#position = segment.from;
        const following = this.#segments[this.#index + 1];
        this.#next = following === undefined ? undefined : openSegment(this.#blobs, following);
      }
      const handle = this.#current;
      if (handle === undefined) break;
      const wanted = Math.min(buffer.length - filled, segment.to + 1 - this.#position);
      const { bytesRead } = await handle.read(buffer, filled, wanted, this.#position);
      if (bytesRead === 0) throw wrongSize(segment.digest, segment.size, this.#position);
      filled += bytesRead;
      this.#position += bytesRead;
      if (this.#position > segment.to) {
        this.#current = undefined;
        this.#index += 1;
        this.#closed = Promise.allSettled([this.#closed, handle.close()]);
      }
    }
    return filled;
  }

  async close(): Promise<void> {
    await this.#closed;
    await this.#current?.close();
    const next = await this.#next?.catch(() => undefined);
    await next?.close();
  }
}

/** Resolves once `out` has handed `bytes` to the system; rejects if `out` fails or closes first. */
function write(out: Writable, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = (): void => {
      reject(new AppError('IO_ERROR', 'the connection closed before the content was sent'));
    };
    out.once('close', onClose);
    out.write(bytes, (e) => {
      out.off('close', onClose);
      if (e === null || e === undefined) resolve();
      else reject(e);
    });
  });
}

/** Writes the segments' bytes to `out` (not ended); a missing or resized chunk file rejects. */
export async function writeChunkFiles(
  blobs: FsBlobStore,
  segments: readonly ChunkSegment[],
  out: Writable,
): Promise<void> {
  const reader = new SegmentReader(blobs, segments);
  let buffer = sendBuffers.take(SEND_BUFFER_BYTES);
  let spare = sendBuffers.take(SEND_BUFFER_BYTES);
  /** The write of `spare`, which may be refilled only once it is done. */
  let previous: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      const filled = await reader.fill(buffer);
      if (filled === 0) break;
      const writing = write(out, filled === buffer.length ? buffer : buffer.subarray(0, filled));
      writing.catch(() => undefined);
      await previous;
      previous = writing;
      [buffer, spare] = [spare, buffer];
    }
    await previous;
    sendBuffers.give(buffer);
    sendBuffers.give(spare);
  } finally {
    await reader.close();
  }
}
