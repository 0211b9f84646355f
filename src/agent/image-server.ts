// The image served to nbdkit's curl plugin, on the agent's own HTTP server: GET and HEAD of /image
// with one byte range (RFC 9110 §14, src/formats/http-range.ts), answered from the verified chunks
// of ImageChunks. It listens on a Unix socket in the agent's private work directory (mode 0700)
// rather than on a loopback port: no other process of the machine can read the image through it,
// and there is no port to choose. A range that cannot be read (a corrupt chunk, a server gone) is
// answered by closing the connection mid-answer, which nbdkit reports to its reader as an I/O error;
// why it failed stays with ImageChunks for the deployment's report.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { contentRange, parseRangeHeader } from '../formats/http-range.ts';
import type { ImageChunks } from './image-chunks.ts';

export const IMAGE_PATH = '/image';

export interface ImageServer {
  /** The URL to give curl together with the socket (the host is not used). */
  readonly url: string;
  readonly socketPath: string;
  close(): Promise<void>;
}

async function answer(image: ImageChunks, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url !== IMAGE_PATH) {
    res.writeHead(404).end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const range = parseRangeHeader(req.headers.range, image.size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'content-range': contentRange(null, image.size) }).end();
    return;
  }
  const start = range?.start ?? 0;
  const end = range === null ? image.size : range.end + 1;
  res.writeHead(range === null ? 200 : 206, {
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
    'content-length': String(end - start),
    ...(range === null ? {} : { 'content-range': contentRange(range, image.size) }),
  });
  if (req.method === 'HEAD' || start === end) {
    res.end();
    return;
  }
  await pipeline(Readable.from(image.pieces(start, end), { objectMode: false }), res);
}

/** Serves `image` on the Unix socket `socketPath` (which must not exist yet). */
export async function serveImage(image: ImageChunks, socketPath: string): Promise<ImageServer> {
  const server = createServer((req, res) => {
    answer(image, req, res).catch(() => {
      res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: `http://localhost${IMAGE_PATH}`,
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
