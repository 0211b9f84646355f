// Opening a file that a network client named, without ever blocking on it. A plain open(2) of a
// FIFO waits for a writer, and a character device may wait for anything; each such open holds one
// of libuv's four threadpool threads, and four of them stop every file operation of the process.
// So the open is non-blocking (O_NONBLOCK: a FIFO opens at once, a device does not wait), never
// follows a final symlink (O_NOFOLLOW: a link swapped in after a path check is refused), and the
// type is checked on the open descriptor (fstat), not on the path, so nothing can be swapped in
// between. Reads through the handle are positioned reads of a regular file, which O_NONBLOCK does
// not change.

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

export type RegularFileRefusal = 'not-found' | 'not-regular' | 'denied';

export type OpenedRegularFile =
  | { readonly ok: true; readonly handle: FileHandle; readonly size: number }
  | { readonly ok: false; readonly refusal: RegularFileRefusal };

/** Opens `path` for reading when it is a regular file; anything else is refused, never waited on. */
export async function openRegularFile(path: string): Promise<OpenedRegularFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, refusal: code === 'ENOENT' || code === 'ENOTDIR' ? 'not-found' : 'denied' };
  }
  const stat = await handle.stat().catch(() => null);
  if (stat?.isFile() === true) return { ok: true, handle, size: stat.size };
  await handle.close();
  return { ok: false, refusal: 'not-regular' };
}
