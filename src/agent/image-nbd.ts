// The image served to nbdfuse over NBD (src/formats/nbd.ts), on a Unix socket in the agent's
// private work directory (mode 0700): no other process of the machine can read the image through
// it, and there is no port to choose. Each read is answered from the verified chunks of
// ImageChunks, as soon as its bytes are there (requests in flight are answered in any order, as
// NBD allows); a range that cannot be read (a corrupt chunk, a server gone) is answered EIO,
// which nbdfuse gives its reader; why it failed stays with ImageChunks for the deployment's report.

import { createServer, type Socket } from 'node:net';
import { NBD_ERRORS, NbdServerProtocol, simpleReplyHeader } from '../formats/nbd.ts';
import type { ImageChunks } from './image-chunks.ts';

export interface NbdImageServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

async function answerRead(
  socket: Socket,
  image: ImageChunks,
  handle: Uint8Array,
  offset: number,
  length: number,
): Promise<void> {
  const pieces: Uint8Array[] = [];
  try {
    for await (const piece of image.pieces(offset, offset + length)) pieces.push(piece);
  } catch {
    if (!socket.destroyed) socket.write(simpleReplyHeader(handle, NBD_ERRORS.EIO));
    return;
  }
  if (socket.destroyed) return;
  // One reply's parts written together, so that no other reply comes between them.
  socket.cork();
  socket.write(simpleReplyHeader(handle, 0));
  for (const piece of pieces) socket.write(piece);
  socket.uncork();
}

function serveConnection(socket: Socket, image: ImageChunks): void {
  const protocol = new NbdServerProtocol(image.size);
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
      else void answerRead(socket, image, action.handle, action.offset, action.length);
    }
  });
  socket.on('error', () => socket.destroy());
}

/** Serves `image` over NBD on the Unix socket `socketPath` (which must not exist yet). */
export async function serveImageNbd(image: ImageChunks, socketPath: string): Promise<NbdImageServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, image);
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
