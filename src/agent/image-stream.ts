// The deployment's image as a local, seekable, read-only file that wimlib applies from, with no
// copy of it anywhere: ImageChunks (fetch, verify, cache, read ahead, resume) → the agent's NBD
// server on a Unix socket → nbdfuse → the file. A network cut stalls the
// read that needs the missing chunk while the fetcher tries again, then the apply goes on from
// where it was.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mountNbdFile } from '../engines/nbd.ts';
import type { ImageChunks } from './image-chunks.ts';
import { serveImageNbd } from './image-nbd.ts';

export interface ImageStream {
  /** The image as a file (on FUSE). */
  readonly path: string;
  close(): Promise<void>;
}

/** Mounts `image` as a file under `dir` (a private directory of the agent). */
export async function openImageStream(image: ImageChunks, dir: string): Promise<ImageStream> {
  const server = await serveImageNbd(image, join(dir, 'image.sock'));
  try {
    await mkdir(join(dir, 'mnt'), { mode: 0o700 });
    const mountFile = join(dir, 'mnt', 'image.wim');
    await writeFile(mountFile, new Uint8Array(0), { mode: 0o600 });
    const mounted = await mountNbdFile({
      unixSocket: server.socketPath,
      mountFile,
      size: image.size,
    });
    return {
      path: mounted.path,
      async close() {
        try {
          await mounted.unmount();
        } finally {
          await server.close();
        }
      },
    };
  } catch (e) {
    await server.close();
    throw e;
  }
}
