// Bytes that are not a file (an image's verified chunks fetched over HTTP in the agent, an image's
// stored chunks in the repository) made a local, seekable, read-only file that wimlib reads from:
// an NBD server (src/formats/nbd.ts) on a Unix socket in a private directory (mode 0700: no other
// process of the machine reads the bytes through it, and there is no port to choose) → nbdfuse
// (src/engines/nbd.ts) → the file. Each NBD read is answered from the source's pieces as soon as
// its bytes are there, copied once into memory the connection reuses (requests in flight are
// answered in any order, as NBD allows); a range that cannot be read (a corrupt chunk, a server
// gone) is answered EIO, which nbdfuse gives its reader; why it failed stays with the source, for
// the caller's report.

import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { BufferPool } from '../core/buffer-pool.ts';
import { mountNbdFile } from '../engines/nbd.ts';
import { NBD_ERRORS, NbdServerProtocol, simpleReplyHeader } from '../formats/nbd.ts';

/**
 * What an NBD export serves: its size, and the bytes of [start, end) in pieces, in order, each
 * valid until the reader next awaits (a source may reuse its memory after).
 */
export interface NbdSource {
  readonly size: number;
  pieces(start: number, end: number): AsyncIterable<Uint8Array>;
}

export interface NbdServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

/** The source as a file, until it is closed. */
export interface NbdFile {
  /** The file (on FUSE). */
  readonly path: string;
  close(): Promise<void>;
}

async function answerRead(
  socket: Socket,
  source: NbdSource,
  buffers: BufferPool,
  handle: Uint8Array,
  offset: number,
  length: number,
): Promise<void> {
  const reply = buffers.take(length);
  let filled = 0;
  try {
    for await (const piece of source.pieces(offset, offset + length)) {
      reply.set(piece, filled);
      filled += piece.byteLength;
    }
  } catch {
    buffers.give(reply);
    if (!socket.destroyed) socket.write(simpleReplyHeader(handle, NBD_ERRORS.EIO));
    return;
  }
  if (socket.destroyed) {
    buffers.give(reply);
    return;
  }
  // One reply's parts written together, so that no other reply comes between them; the memory
  // is free again once the socket has taken it.
  socket.cork();
  socket.write(simpleReplyHeader(handle, 0));
  socket.write(reply, () => buffers.give(reply));
  socket.uncork();
}

function serveConnection(socket: Socket, source: NbdSource): void {
  const protocol = new NbdServerProtocol(source.size);
  // Memory for replies, kept while the connection lasts: about the reads nbdfuse has in flight.
  const buffers = new BufferPool(8 * 1024 * 1024);
  socket.write(protocol.greeting());
  socket.on('data', (data: Buffer) => {
    let actions;
    try {
      actions = protocol.receive(data);
    } catch {
      socket.destroy();
      return;
    }
    for (const action of actions) {
      if (action.kind === 'send') socket.write(action.bytes);
      else if (action.kind === 'close') socket.end();
      else void answerRead(socket, source, buffers, action.handle, action.offset, action.length);
    }
  });
  socket.on('error', () => socket.destroy());
}

/** Serves `source` over NBD on the Unix socket `socketPath` (which must not exist yet). */
export async function serveNbd(source: NbdSource, socketPath: string): Promise<NbdServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, source);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * Mounts `source` as the file `dir`/mnt/`name`, served from the socket `dir`/nbd.sock; `dir` is a
 * private directory of the caller's (mode 0700). Closing unmounts the file, then stops the server.
 */
export async function openNbdFile(source: NbdSource, dir: string, name: string): Promise<NbdFile> {
  const server = await serveNbd(source, join(dir, 'nbd.sock'));
  try {
    await mkdir(join(dir, 'mnt'), { mode: 0o700 });
    const mountFile = join(dir, 'mnt', name);
    await writeFile(mountFile, new Uint8Array(0), { mode: 0o600 });
    const mounted = await mountNbdFile({ unixSocket: server.socketPath, mountFile, size: source.size });
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
