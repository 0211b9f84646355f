// Where a local build's VM reports to: an HTTP listener on the host's loopback, which QEMU's
// user-mode network shows the guest as 10.0.2.2. One route, POST /api/v1/builds/{id}/report, for
// one build and its token; anything else is 404. The guest runs whatever the recipe installed, so
// the listener is as strict as the server's routes: the size is checked before the body is read,
// the token compared in constant time, the report validated, few connections at once.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BuildReport, MAX_REPORT_BYTES } from './build-report.ts';

/** The path the provisioning script posts to. */
export function reportPath(build: string): string {
  return `/api/v1/builds/${encodeURIComponent(build)}/report`;
}

/** The address the guest reaches the host's loopback at, on QEMU's user-mode network. */
export const GUEST_HOST_ADDRESS = '10.0.2.2';

const MAX_CONNECTIONS = 8;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** What a build keeps of its report token: its SHA-256 (the token itself is only on the answer media). */
export function tokenDigest(token: string): string {
  return digest(`Bearer ${token}`).toString('hex');
}

function answer(res: ServerResponse, status: number, message?: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(message === undefined ? undefined : `${message}\n`);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REPORT_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class ReportListener {
  readonly #server: Server;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /**
   * Listens on 127.0.0.1 for the reports of `build`, sent with the token of `tokenSha256`: on
   * `port`, or a free one (a resumed build listens where its VM was told to report).
   */
  static async start(
    build: string,
    tokenSha256: string,
    deliver: (r: BuildReport) => void,
    port = 0,
  ): Promise<ReportListener> {
    const path = reportPath(build);
    const want = Buffer.from(tokenSha256, 'hex');
    const handle = async (req: IncomingMessage): Promise<[number, string?]> => {
      if (req.method !== 'POST' || req.url !== path) return [404, 'not found'];
      if (!timingSafeEqual(digest(req.headers.authorization ?? ''), want)) {
        return [401, 'this build’s token is needed'];
      }
      const tooLarge: [number, string] = [413, `a report is at most ${MAX_REPORT_BYTES} bytes`];
      const length = Number(req.headers['content-length'] ?? '0');
      if (!Number.isFinite(length) || length > MAX_REPORT_BYTES) return tooLarge;
      const body = await readBody(req);
      if (body === null) return tooLarge;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return [400, 'a report is one JSON object'];
      }
      const report = BuildReport.safeParse(parsed);
      if (!report.success) return [400, 'not a report this build understands'];
      deliver(report.data);
      return [204];
    };
    const server = createServer((req, res) => {
      handle(req).then(
        ([status, message]) => {
          answer(res, status, message);
        },
        () => res.destroy(),
      );
    });
    server.maxConnections = MAX_CONNECTIONS;
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new ReportListener(server, (server.address() as AddressInfo).port);
  }

  /** The report URL as the guest sees it. */
  guestUrl(build: string): string {
    return `http://${GUEST_HOST_ADDRESS}:${this.port}${reportPath(build)}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
