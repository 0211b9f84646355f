// A request body of bytes (a chunk pushed or captured) read whole into one buffer of its declared
// length, straight from the connection: no web stream, no pieces joined, no second copy into an
// ArrayBuffer (each of those cost about as much CPU as storing the chunk). The route's limit was
// checked against the Content-Length before the handler (src/server/app.ts), and Node's parser ends
// the body there. Elsewhere (app.request in tests) the body is read as a web request's.

import type { IncomingMessage } from 'node:http';
import { AppError } from '../core/errors.ts';
import type { RouteRequest } from './routes.ts';

export async function receiveBytes(r: RouteRequest): Promise<Uint8Array> {
  const incoming = (r.c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming === undefined) return new Uint8Array(await r.c.req.arrayBuffer());
  const length = Number(incoming.headers['content-length']);
  // Not zeroed: every byte is written before the body is used (its length is checked at the end).
  const body = Buffer.allocUnsafe(length);
  let got = 0;
  return new Promise((resolve, reject) => {
    const cut = (): void =>
      reject(new AppError('IO_ERROR', `the request body was cut off after ${got} of its ${length} bytes`));
    incoming.on('data', (piece: Buffer) => {
      const room = Math.min(piece.byteLength, length - got);
      body.set(room === piece.byteLength ? piece : piece.subarray(0, room), got);
      got += room;
    });
    incoming.once('end', () => (got === length ? resolve(body) : cut()));
    incoming.once('error', cut);
    incoming.once('close', () => {
      if (!incoming.complete) cut();
    });
  });
}
