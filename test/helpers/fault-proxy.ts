// An HTTP proxy on loopback between a client and a real server, misbehaving on purpose for the
// requests a test picks (by path), as a bad network would: an answer cut halfway, a 503 that never
// reached the server, a slow link. Everything else passes through untouched. A server that goes
// away (killed, restarting) shows through as it would without the proxy: the client's connection
// is cut. It counts what it did, and the bytes of the picked answers it delivered.

import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProxyFaults {
  /** The requests the faults and the counts are about. */
  readonly match: (path: string) => boolean;
  /** Picked requests (1-based, in the order received) answered with half the body, then a cut. */
  readonly cut?: ReadonlySet<number>;
  /** Picked requests answered 503 by the proxy itself. */
  readonly unavailable?: ReadonlySet<number>;
  /** Picked answers carried one after another at this rate. */
  readonly bytesPerSecond?: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly counts: {
    /** Picked requests received. */
    requests: number;
    /** Bytes of picked answers' bodies delivered, cut ones included. */
    bytes: number;
    cuts: number;
    unavailable: number;
    /** Requests (picked or not) whose server went away before it answered them whole. */
    serverLost: number;
  };
  close(): Promise<void>;
}

/** Headers of one connection, not of the message: never passed on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

async function bodyOf(message: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of message as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

/** Starts the proxy to `target` (http://HOST:PORT) on 127.0.0.1, on a free port. */
export async function startFaultProxy(target: string, faults: ProxyFaults): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const counts = { requests: 0, bytes: 0, cuts: 0, unavailable: 0, serverLost: 0 };
  let link: Promise<void> = Promise.resolve();

  /** Waits for the slow link to carry `size` bytes after what it carries already. */
  function carry(size: number): Promise<void> {
    const rate = faults.bytesPerSecond;
    if (rate === undefined) return Promise.resolve();
    link = link.then(() => sleep((size / rate) * 1000));
    return link;
  }

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const picked = faults.match(path) ? ++counts.requests : null;
    if (picked !== null && faults.unavailable?.has(picked) === true) {
      counts.unavailable++;
      req.resume();
      const body = JSON.stringify({
        error: { code: 'IO_ERROR', message: 'the proxy is unavailable for this request', hint: null },
      });
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const lost = (): void => {
      counts.serverLost++;
      res.destroy();
    };
    const forward = request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path,
        headers: endToEnd(req.headers),
        agent,
      },
      (answer) => {
        const headers = endToEnd(answer.headers);
        if (picked === null) {
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.on('close', () => {
            if (!answer.complete) lost();
          });
          answer.pipe(res);
          return;
        }
        bodyOf(answer)
          .then(async (body) => {
            if (!answer.complete) throw new Error('the answer was cut');
            await carry(body.byteLength);
            res.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': body.byteLength });
            if (faults.cut?.has(picked) === true) {
              counts.cuts++;
              const half = body.subarray(0, body.byteLength >> 1);
              counts.bytes += half.byteLength;
              res.write(half, () => res.socket?.destroy());
              return;
            }
            counts.bytes += body.byteLength;
            res.end(body);
          })
          .catch(lost);
      },
    );
    forward.on('error', lost);
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
