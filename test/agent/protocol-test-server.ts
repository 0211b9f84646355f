// A test server of the agent protocol (src/deploy/agent-protocol.ts), for the agent's tests and
// benchmark while the real one lives elsewhere: the five routes over real HTTP on loopback, the
// bearer token checked on each, every report validated with the protocol's schema and kept, the
// image's chunks cut by the repository's chunker from a real WIM file and read from it by offset,
// and the unattend given once. It can misbehave on purpose, counting what it sends: cut a chunk's
// answer halfway, answer 503, send a chunk with one byte changed, or send chunks at a slow rate.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AGENT_PATHS, AGENT_STATES, AgentReport, type AgentTask } from '../../src/deploy/agent-protocol.ts';
import { chunkStream, type ChunkerOptions } from '../../src/store/chunker.ts';
import { manifestDigest, MEDIA_TYPES, type Manifest } from '../../src/store/manifest.ts';

export interface Faults {
  /** Chunk requests (1-based, in the order received) answered with half the chunk, then a cut. */
  readonly cut?: ReadonlySet<number>;
  /** Chunk requests answered 503. */
  readonly unavailable?: ReadonlySet<number>;
  /** A chunk (by its index in the manifest) always sent with one byte changed. */
  readonly corruptChunk?: number;
  /** Chunks answered one at a time at this rate (a slow link). */
  readonly bytesPerSecond?: number;
}

export interface TestServerOptions {
  readonly wim: string;
  readonly token: string;
  /** The task but its image's digest, size and SHA-256, which come from the WIM. */
  readonly task: Omit<AgentTask, 'image'> & {
    readonly image: Pick<AgentTask['image'], 'name' | 'tag' | 'index'>;
  };
  readonly unattend: string;
  readonly chunker?: ChunkerOptions;
  readonly faults?: Faults;
}

export interface ReceivedReport {
  readonly at: number;
  readonly report: AgentReport;
}

export interface ProtocolTestServer {
  readonly url: string;
  readonly manifest: Manifest;
  readonly task: AgentTask;
  /** Valid reports, in the order received. */
  readonly reports: ReceivedReport[];
  /** Reports refused by the schema, or that went back to an earlier state. */
  readonly badReports: string[];
  readonly counts: {
    chunkRequests: number;
    /** Bytes of chunk bodies written to sockets, cut answers included. */
    chunkBytes: number;
    cuts: number;
    unavailable: number;
    unattendFetches: number;
    unauthorized: number;
  };
  close(): Promise<void>;
}

const MAX_REPORT_BYTES = 1024 * 1024;

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message, hint: null } });
}

async function readRequest(req: IncomingMessage): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.byteLength;
    if (size > MAX_REPORT_BYTES) return null;
    parts.push(part);
  }
  return Buffer.concat(parts);
}

/** Starts the server on 127.0.0.1 on a free port. */
export async function startProtocolTestServer(options: TestServerOptions): Promise<ProtocolTestServer> {
  const chunks: { digest: string; size: number; offset: number }[] = [];
  const whole = createHash('sha256');
  for await (const chunk of chunkStream(createReadStream(options.wim), options.chunker)) {
    chunks.push({ digest: chunk.digest, size: chunk.size, offset: chunk.offset });
    whole.update(chunk.bytes);
  }
  const manifest: Manifest = {
    schemaVersion: 1,
    mediaType: MEDIA_TYPES.wim,
    size: chunks.reduce((sum, c) => sum + c.size, 0),
    sha256: whole.digest('hex'),
    chunks: chunks.map(({ digest, size }) => ({ digest, size })),
  };
  const task: AgentTask = {
    ...options.task,
    image: {
      ...options.task.image,
      digest: manifestDigest(manifest),
      size: manifest.size,
      sha256: manifest.sha256,
    },
  };
  const byDigest = new Map(chunks.map((c, index) => [c.digest, { ...c, index }]));
  const file: FileHandle = await open(options.wim, 'r');
  const faults = options.faults ?? {};
  const reports: ReceivedReport[] = [];
  const badReports: string[] = [];
  const counts = {
    chunkRequests: 0,
    chunkBytes: 0,
    cuts: 0,
    unavailable: 0,
    unattendFetches: 0,
    unauthorized: 0,
  };
  let lastState = -1;
  let link: Promise<void> = Promise.resolve();

  /** Waits for the slow link to carry `size` bytes after what it carries already. */
  function carry(size: number): Promise<void> {
    const rate = faults.bytesPerSecond;
    if (rate === undefined) return Promise.resolve();
    link = link.then(() => new Promise((r) => setTimeout(r, (size / rate) * 1000)));
    return link;
  }

  async function chunk(res: ServerResponse, digest: string): Promise<void> {
    const found = byDigest.get(digest);
    if (found === undefined) {
      refuse(res, 404, 'NOT_FOUND', `no chunk ${digest} in this deployment's image`);
      return;
    }
    const request = ++counts.chunkRequests;
    await carry(found.size);
    if (faults.unavailable?.has(request) === true) {
      counts.unavailable++;
      refuse(res, 503, 'IO_ERROR', 'the test server is unavailable for this request');
      return;
    }
    const bytes = Buffer.alloc(found.size);
    await file.read(bytes, 0, found.size, found.offset);
    if (faults.corruptChunk === found.index)
      bytes.writeUInt8(bytes.readUInt8(found.size >> 1) ^ 0x5a, found.size >> 1);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': found.size });
    if (faults.cut?.has(request) === true) {
      counts.cuts++;
      const half = bytes.subarray(0, found.size >> 1);
      counts.chunkBytes += half.byteLength;
      res.write(half, () => res.socket?.destroy());
      return;
    }
    counts.chunkBytes += bytes.byteLength;
    res.end(bytes);
  }

  async function report(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readRequest(req);
    if (body === null) {
      refuse(res, 413, 'LIMIT_EXCEEDED', 'the report is too big');
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      badReports.push('not JSON');
      refuse(res, 400, 'USAGE', 'the report is not JSON');
      return;
    }
    const parsed = AgentReport.safeParse(value);
    if (!parsed.success) {
      badReports.push(parsed.error.message);
      refuse(res, 400, 'USAGE', 'the report does not follow the schema');
      return;
    }
    const state = parsed.data.state;
    if (state !== undefined) {
      const at = AGENT_STATES.indexOf(state);
      if (at <= lastState && state !== 'failed')
        badReports.push(`state ${state} after ${AGENT_STATES[lastState] ?? '?'}`);
      lastState = Math.max(lastState, at);
    }
    reports.push({ at: Date.now(), report: parsed.data });
    res.writeHead(204).end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      counts.unauthorized++;
      refuse(res, 401, 'UNAUTHORIZED', 'this route wants the deployment token');
      return;
    }
    const path = req.url ?? '';
    if (req.method === 'GET' && (path === AGENT_PATHS.task || path === AGENT_PATHS.manifest)) {
      json(res, 200, path === AGENT_PATHS.task ? task : manifest);
      return;
    }
    if (req.method === 'POST' && path === AGENT_PATHS.report) return report(req, res);
    if (req.method === 'GET' && path.startsWith(`${AGENT_PATHS.chunk}/`)) {
      return chunk(res, path.slice(AGENT_PATHS.chunk.length + 1));
    }
    if (req.method === 'GET' && path === AGENT_PATHS.unattend) {
      if (++counts.unattendFetches > 1) {
        refuse(res, 409, 'CONFLICT', 'the unattend of this deployment was fetched already');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(options.unattend);
      return;
    }
    refuse(res, 404, 'NOT_FOUND', `no route ${req.method ?? ''} ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) refuse(res, 500, 'INTERNAL', String(e));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    manifest,
    task,
    reports,
    badReports,
    counts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await file.close();
    },
  };
}
