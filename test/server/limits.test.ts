// Request bodies are limited before they are read, on the real `winsmith server` process: a
// 200 MB body to the unauthenticated login route, with its length declared or sent chunked with
// none, is refused with 413 and the server's memory does not grow by it; a chunk upload is refused
// unread when its length is not declared, or declared over the chunk limit; the server answers the
// next request at once.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { loginRemote } from '../../src/app/remote/http-client.ts';
import { residentBytes, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

const MIB = 1024 * 1024;

/** What became of a body sent: the answer, or the connection cut before it could be read. */
type Sent = { readonly status: number | 'cut'; readonly body: string; readonly sent: number };

/**
 * Sends `total` bytes to `path` (1 MiB writes, with back-pressure), the length declared or not
 * (chunked); resolves with the status once the answer comes, however much of the body was taken.
 * A server that answers and closes while the client is still writing may reset the connection
 * before the client reads the answer: that is `cut`, with how much had been written.
 */
function sendBody(
  url: string,
  path: string,
  total: number,
  options: { readonly declared: boolean; readonly headers?: Record<string, string> },
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const piece = Buffer.alloc(MIB, 0x7b);
    const req = request(`${url}${path}`, {
      method: path.includes('/chunks/') ? 'PUT' : 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.declared ? { 'content-length': String(total) } : {}),
        ...options.headers,
      },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, sent }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (answered) return;
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') resolve({ status: 'cut', body: '', sent });
      else reject(e);
    });
    let sent = 0;
    const write = (): void => {
      while (sent < total && !answered && !req.destroyed) {
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', write);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    write();
  });
}

/**
 * The body was refused: a 413 LIMIT_EXCEEDED (or `code` with `status`), or the connection cut long
 * before all of it was sent.
 */
function assertRefused(answer: Sent, total: number, status = 413, code = 'LIMIT_EXCEEDED'): void {
  if (answer.status === 'cut') {
    assert.ok(answer.sent < total / 2, `cut after ${answer.sent} of ${total} bytes`);
    return;
  }
  assert.equal(answer.status, status, answer.body);
  assert.match(answer.body, new RegExp(code));
}

async function withServer(fn: (server: ServerProcess, dir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const config = join(dir, 'server.yaml');
    await writeFile(
      config,
      ['data: ./data', 'listen: 127.0.0.1:0', 'limits: { maxChunkBytes: 1048576 }', ''].join('\n'),
    );
    const log: string[] = [];
    const server = await startServerProcess(config, log);
    try {
      await fn(server, dir);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
}

test(
  'a 200 MB body to the login route is refused with 413 unread, declared or chunked; memory stays',
  { timeout: 120_000 },
  async () => {
    await withServer(async (server) => {
      const pid = server.child.pid ?? 0;
      assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
      const before = await residentBytes(pid);
      for (const declared of [true, false]) {
        const started = Date.now();
        const answer = await sendBody(server.url, '/api/v1/login', 200 * MIB, { declared });
        assertRefused(answer, 200 * MIB);
        const after = await residentBytes(pid);
        process.stderr.write(
          `# 200 MB login body (${declared ? 'declared' : 'chunked'}): ${String(answer.status)} in ${Date.now() - started} ms; server RSS ${(before / MIB).toFixed(0)} → ${(after / MIB).toFixed(0)} MiB\n`,
        );
        assert.ok(
          after - before < 48 * MIB,
          `server memory grew by ${((after - before) / MIB).toFixed(0)} MiB`,
        );
      }
      const health = await fetch(`${server.url}/api/health`);
      assert.equal(health.status, 200);
    });
  },
);

test(
  'a chunk upload is refused unread with no declared length, or one over the chunk limit',
  { timeout: 60_000 },
  async () => {
    await withServer(async (server) => {
      assert.ok(server.adminPassword !== null);
      const { token } = await loginRemote(server.url, 'admin', server.adminPassword);
      const digest = 'a'.repeat(64);
      const manifest = {
        schemaVersion: 1,
        mediaType: 'application/octet-stream',
        size: 1000,
        sha256: digest,
        chunks: [{ digest, size: 1000 }],
      };
      const begun = await fetch(`${server.url}/api/v1/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'team-a/big', tag: 'v1', manifest }),
      });
      const { id } = (await begun.json()) as { id: string };
      const pid = server.child.pid ?? 0;
      const before = await residentBytes(pid);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' };
      const path = `/api/v1/uploads/${id}/chunks/${digest}`;
      assertRefused(
        await sendBody(server.url, path, 100 * MIB, { declared: false, headers }),
        100 * MIB,
        400,
        'USAGE',
      );
      assertRefused(await sendBody(server.url, path, 100 * MIB, { declared: true, headers }), 100 * MIB);
      assert.ok((await residentBytes(pid)) - before < 48 * MIB);
    });
  },
);

/** POSTs JSON from the loopback address `from` (any of 127.0.0.0/8); the status, Retry-After, body. */
function postFrom(
  url: string,
  path: string,
  body: unknown,
  from: string,
): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(`${url}${path}`, {
      method: 'POST',
      localAddress: from,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
    });
    req.on('response', (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => {
        const retry = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: retry, body: data });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

test(
  'wrong passwords from one address stop that address only, with Retry-After; the user logs in from another',
  { timeout: 60_000 },
  async () => {
    await withServer(async (server) => {
      assert.ok(server.adminPassword !== null);
      const login = (password: string, from: string) =>
        postFrom(server.url, '/api/v1/login', { user: 'admin', password }, from);
      for (let i = 0; i < 5; i++) assert.equal((await login('wrong password!', '127.0.0.2')).status, 401);
      const stopped = await login(server.adminPassword, '127.0.0.2');
      assert.equal(stopped.status, 429);
      assert.ok(
        Number(stopped.retryAfter) > 0 && Number(stopped.retryAfter) <= 900,
        `Retry-After ${stopped.retryAfter}`,
      );
      const elsewhere = await login(server.adminPassword, '127.0.0.3');
      assert.equal(elsewhere.status, 200, elsewhere.body);
    });
  },
);
