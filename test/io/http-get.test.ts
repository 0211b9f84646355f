// GET over kept-alive connections with sockets that read into reused buffers
// (src/io/http-get.ts), against node:http and node:https servers and a raw one on loopback:
// connections reused up to the bound, a request on a connection the server closed while idle sent
// again, cuts and silence reported, and over TLS the server's certificate checked.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { AppError } from '../../src/core/errors.ts';
import { HttpGetPool } from '../../src/io/http-get.ts';
import { makeTestCertificates } from '../helpers/test-ca.ts';

const LIMITS = { ok: 4 * 1024 * 1024, other: 1024 };

/** The body served for /bytes/N: N bytes that depend on N. */
function bytesOf(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + n) & 0xff;
  return out;
}

async function listening<S extends Server | NetServer>(server: S): Promise<[S, number]> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return [server, (server.address() as AddressInfo).port];
}

function close(server: Server | NetServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

test('many GETs share at most the bound of kept-alive connections; each body is whole, in the memory given if any; other statuses come with theirs', async () => {
  let connections = 0;
  const [server, port] = await listening(
    createServer((req, res) => {
      const n = Number(/^\/base\/bytes\/([0-9]+)$/.exec(req.url ?? '')?.[1] ?? Number.NaN);
      if (!Number.isSafeInteger(n) || req.headers.authorization !== 'Bearer t') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no"}}');
        return;
      }
      // Chunked when the size is odd, with a Content-Length when it is even.
      if (n % 2 === 0) res.setHeader('content-length', String(n));
      res.end(bytesOf(n));
    }).on('connection', () => connections++),
  );
  const pool = new HttpGetPool(new URL(`http://127.0.0.1:${port}/base/`), 3);
  try {
    const sizes = Array.from(
      { length: 40 },
      (_, i) => [0, 1, 65_535, 262_144, 1_048_577, 3_000_000][i % 6] ?? 0,
    );
    const answers = await Promise.all(
      sizes.map((n) =>
        pool.get(`/bytes/${n}`, { authorization: 'Bearer t' }, { limits: LIMITS, idleTimeoutMs: 10_000 }),
      ),
    );
    answers.forEach((answer, i) => {
      assert.equal(answer.status, 200);
      const expected = bytesOf(sizes[i] ?? 0);
      assert.equal(
        createHash('sha256').update(answer.body).digest('hex'),
        createHash('sha256').update(expected).digest('hex'),
      );
    });
    assert.ok(connections <= 3, `${connections} connections`);
    const into = new Uint8Array(3_000_000);
    const given = await pool.get(
      '/bytes/3000000',
      { authorization: 'Bearer t' },
      { limits: LIMITS, idleTimeoutMs: 10_000, into },
    );
    assert.equal(given.body.buffer, into.buffer, 'the body was read into the memory given');
    assert.deepEqual(Buffer.from(into), bytesOf(3_000_000));
    const refused = await pool.get('/other', {}, { limits: LIMITS, idleTimeoutMs: 10_000 });
    assert.equal(refused.status, 404);
    assert.equal(new TextDecoder().decode(refused.body), '{"error":{"message":"no"}}');
    await assert.rejects(
      pool.get(
        '/bytes/8',
        { authorization: 'Bearer t\r\nX-Injected: 1' },
        { limits: LIMITS, idleTimeoutMs: 10_000 },
      ),
      (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT',
    );
    await assert.rejects(
      pool.get(
        '/bytes/5000',
        { authorization: 'Bearer t' },
        { limits: { ok: 4999, other: 1024 }, idleTimeoutMs: 10_000 },
      ),
      (e: unknown) => e instanceof AppError && e.code === 'LIMIT_EXCEEDED',
    );
  } finally {
    pool.close();
    await close(server);
  }
});

test('a kept-alive connection the server closed while idle: the next GET is sent again, and answered', async () => {
  let connections = 0;
  const [server, port] = await listening(
    createNetServer((socket) => {
      connections++;
      socket.once('data', () => {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    }),
  );
  const pool = new HttpGetPool(new URL(`http://127.0.0.1:${port}`), 1);
  try {
    assert.equal(
      new TextDecoder().decode((await pool.get('/a', {}, { limits: LIMITS, idleTimeoutMs: 10_000 })).body),
      'ok',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(
      new TextDecoder().decode((await pool.get('/b', {}, { limits: LIMITS, idleTimeoutMs: 10_000 })).body),
      'ok',
    );
    assert.equal(connections, 2);
  } finally {
    pool.close();
    await close(server);
  }
});

test('an answer cut short and a server that goes silent fail the GET, not as an AppError (it may be tried again)', async () => {
  const [server, port] = await listening(
    createNetServer((socket) => {
      socket.once('data', (request) => {
        if (request.toString().startsWith('GET /cut ')) {
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this');
        }
      });
    }),
  );
  const pool = new HttpGetPool(new URL(`http://127.0.0.1:${port}`), 2);
  try {
    await assert.rejects(
      pool.get('/cut', {}, { limits: LIMITS, idleTimeoutMs: 10_000 }),
      (e: unknown) =>
        e instanceof Error && !(e instanceof AppError) && /cut off after 9 bytes/.test(e.message),
    );
    await assert.rejects(
      pool.get('/silent', {}, { limits: LIMITS, idleTimeoutMs: 300 }),
      (e: unknown) => e instanceof Error && /no data for 0.3 s/.test(e.message),
    );
  } finally {
    pool.close();
    await close(server);
  }
});

test('over https the server certificate is checked: refused while its CA is not trusted, answered once it is', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-http-get-'));
  const trusted = getCACertificates('default');
  try {
    const certs = await makeTestCertificates(dir);
    const [server, port] = await listening(
      createHttpsServer({ cert: await readFile(certs.cert), key: await readFile(certs.key) }, (_req, res) =>
        res.end('secret'),
      ),
    );
    const url = new URL(`https://localhost:${port}`);
    const untrusting = new HttpGetPool(url, 1);
    try {
      await assert.rejects(untrusting.get('/', {}, { limits: LIMITS, idleTimeoutMs: 10_000 }), /certificate/);
      setDefaultCACertificates([...trusted, await readFile(certs.ca, 'utf8')]);
      const pool = new HttpGetPool(url, 1);
      try {
        assert.equal(
          new TextDecoder().decode((await pool.get('/', {}, { limits: LIMITS, idleTimeoutMs: 10_000 })).body),
          'secret',
        );
      } finally {
        pool.close();
      }
    } finally {
      untrusting.close();
      await close(server);
    }
  } finally {
    setDefaultCACertificates(trusted);
    await rm(dir, { recursive: true, force: true });
  }
});
