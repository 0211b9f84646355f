// Where a disk is laid out: a regular file (a disk image, kept sparse) or a block device (the
// deploy agent's real disk). Both are written by offset; nothing here knows which it is beyond
// opening it, so the disk code above works the same on either.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { AppError } from '../core/errors.ts';
import type { ProgressListener } from '../core/progress.ts';

export interface BlockTarget {
  readonly path: string;
  readonly size: number;
  write(offset: number, bytes: Uint8Array): Promise<void>;
  read(offset: number, length: number): Promise<Uint8Array>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

function ioError(path: string, what: string, cause: unknown): AppError {
  return new AppError('IO_ERROR', `cannot ${what} ${path}: ${(cause as Error).message}`, { cause });
}

/**
 * Opens `path` for writing by offset. A regular file is created if missing and set to `size`
 * bytes (growing it leaves a hole, so it stays sparse); a block device keeps its own size, which
 * must be at least `size`.
 */
export async function openBlockTarget(path: string, size: number): Promise<BlockTarget> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r+').catch((cause: unknown) => {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return open(path, 'w+');
      throw cause;
    });
  } catch (cause) {
    throw ioError(path, 'open', cause);
  }
  const info = await stat(path);
  if (info.isFile()) {
    await handle.truncate(size);
  } else if (!info.isBlockDevice()) {
    await handle.close();
    throw new AppError('INVALID_ARGUMENT', `${path} is neither a regular file nor a block device`);
  }
  const checkRange = (offset: number, length: number): void => {
    if (offset < 0 || offset + length > size) {
      throw new AppError('INTERNAL', `${length} bytes at ${offset} are outside ${path} (${size} bytes)`);
    }
  };
  return {
    path,
    size,
    async write(offset, bytes) {
      checkRange(offset, bytes.byteLength);
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, offset + done);
        done += bytesWritten;
      }
    },
    async read(offset, length) {
      checkRange(offset, length);
      const buffer = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buffer;
    },
    flush: () => handle.sync(),
    close: () => handle.close(),
  };
}

const COPY_CHUNK = 1024 * 1024;

function isZero(bytes: Uint8Array): boolean {
  const words = new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 3);
  for (const w of words) if (w !== 0n) return false;
  for (let i = words.length * 8; i < bytes.byteLength; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Copies the file `source` into `target` at `offset`, skipping all-zero chunks so that holes stay
 * holes (a fresh target region reads as zeros already). Returns the bytes actually written.
 */
export async function copyFileInto(
  source: string,
  target: BlockTarget,
  offset: number,
  onProgress?: ProgressListener,
): Promise<number> {
  const size = (await stat(source)).size;
  const handle = await open(source, 'r');
  const buffer = new Uint8Array(COPY_CHUNK);
  let written = 0;
  try {
    for (let at = 0; at < size; at += COPY_CHUNK) {
      const length = Math.min(COPY_CHUNK, size - at);
      const { bytesRead } = await handle.read(buffer, 0, length, at);
      const chunk = buffer.subarray(0, bytesRead);
      if (!isZero(chunk)) {
        await target.write(offset + at, chunk);
        written += bytesRead;
      }
      onProgress?.({ phase: 'Placing partition', done: at + length, total: size, unit: 'bytes' });
    }
  } finally {
    await handle.close();
  }
  return written;
}
