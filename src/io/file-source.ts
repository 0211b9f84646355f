// A ByteSource over a file on disk, read with positioned reads (no whole-file load).

import { open, type FileHandle } from 'node:fs/promises';
import { checkRange, type ByteSource } from '../core/byte-source.ts';
import { AppError } from '../core/errors.ts';
import { requireFile } from './paths.ts';

export interface FileByteSource extends ByteSource {
  readonly path: string;
  close(): Promise<void>;
}

export async function openFileSource(path: string): Promise<FileByteSource> {
  const size = (await requireFile(path)).size;
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new AppError('IO_ERROR', `cannot open ${path}: ${(cause as Error).message}`, { cause });
  }
  return {
    path,
    size,
    async read(offset, length) {
      checkRange(size, offset, length, path);
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        if (bytesRead === 0) throw new AppError('IO_ERROR', `${path} ended early at byte ${offset + filled}`);
        filled += bytesRead;
      }
      return buffer;
    },
    close: () => handle.close(),
  };
}

/** Runs `fn` with the file open as a ByteSource, and closes it whatever happens. */
export async function withFileSource<T>(
  path: string,
  fn: (source: FileByteSource) => Promise<T>,
): Promise<T> {
  const source = await openFileSource(path);
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}
