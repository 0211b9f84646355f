// A request body of bytes (a chunk pushed or captured): its declared length checked against the
// route's limit before anything else runs, then the body read whole into one buffer of that
// length, straight from the connection: no web stream, no pieces joined, no second copy into an
// ArrayBuffer (each of those cost about as much CPU as storing the chunk). Node's parser ends the
// body at its Content-Length. The buffer comes from a pool and goes back to it once the route has
// stored the bytes, so a push of gigabytes makes no garbage. In app.request (tests, no connection)
// the body is a web request's, limited and read by hono.

import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { BufferPool } from '../core/buffer-pool.ts';
import { AppError } from '../core/errors.ts';
import type { RouteRequest } from './routes.ts';

/** The Node request under `c`, when it came over a connection. */
export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/**
 * Refuses a body of bytes with no Content-Length (400 USAGE, the connection closed) or one over
 * `maxSize` (`tooBig`), unread; `otherwise` limits the body in app.request.
 */
export function declaredLengthLimit(
  route: string,
  maxSize: number,
  tooBig: (c: Context) => Response,
  otherwise: MiddlewareHandler,
): MiddlewareHandler {
  return async (c, next) => {
    if (incomingOf(c) === undefined) return otherwise(c, next);
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) {
      c.header('connection', 'close');
      throw new AppError('USAGE', `the body of ${route} came without a Content-Length`, {
        hint: 'send the bytes with their Content-Length, not chunked',
      });
    }
    if (Number(declared) > maxSize) return tooBig(c);
    await next();
    return undefined;
  };
}

/** Received bodies' memory: enough spare for a few pushes at once, whatever the chunk sizes. */
const bodies = new BufferPool(32 * 1024 * 1024);

/**
 * Runs `use` on the request's body of bytes; the memory is reused once `use` has settled, so
 * nothing may keep the bytes past it. A body cut off rejects (IO_ERROR) before `use` runs.
 */
export async function withReceivedBytes<T>(
  r: RouteRequest,
  use: (bytes: Uint8Array) => Promise<T>,
): Promise<T> {
  const incoming = incomingOf(r.c);
  if (incoming === undefined) return use(new Uint8Array(await r.c.req.arrayBuffer()));
  const body = await receiveInto(incoming, bodies.take(Number(incoming.headers['content-length'])));
  try {
    return await use(body);
  } finally {
    bodies.give(body);
  }
}

/** Reads the body into `body`, which has its declared length. */
function receiveInto(incoming: IncomingMessage, body: Buffer): Promise<Buffer> {
  const length = body.length;
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
