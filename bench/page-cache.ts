// Files read once before a benchmark times a side that reads them, so that every side reads its
// input from memory. A host that reclaims the page cache of files not read for a few seconds (DAMON's
// pageout, as on the hosts these benchmarks run on) would otherwise have whichever side runs first
// after a pause read from the disk, and the other from memory.

import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const BUFFER_BYTES = 4 * 1024 * 1024;

/** Reads every byte of `path`, a file or every file under a directory, and throws them away. */
export async function readIntoPageCache(path: string): Promise<void> {
  const files = (await stat(path)).isDirectory()
    ? (await readdir(path, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
    : [path];
  const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  for (const file of files) {
    const handle = await open(file, 'r');
    try {
      let bytesRead: number;
      do ({ bytesRead } = await handle.read(buffer, 0, buffer.length, null));
      while (bytesRead > 0);
    } finally {
      await handle.close();
    }
  }
}
