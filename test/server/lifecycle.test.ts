// The server's lifecycle over a real socket on 127.0.0.1 port 0: services share one signal (one
// failing stops all), close() lets a request in flight finish, SSE delivers job progress, and the
// JSON log never carries a token or password.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.ts';
import { issueToken } from '../../src/auth/tokens.ts';
import { withTempDir } from '../../src/io/output.ts';
import { createApp } from '../../src/server/app.ts';
import { EventHub } from '../../src/app/events.ts';
import { createJsonLogger, silentLogger } from '../../src/server/log.ts';
import { startServer, type Service } from '../../src/server/server.ts';
import { LocalApp } from '../../src/app/local-app.ts';

test(
  'one failing service stops the listener and the other services; done rejects with the failure',
  { timeout: 20_000 },
  async () => {
    let otherStopped = false;
    const other: Service = {
      name: 'other',
      start: (signal) =>
        new Promise((resolve) =>
          signal.addEventListener(
            'abort',
            () => {
              otherStopped = true;
              resolve();
            },
            { once: true },
          ),
        ),
    };
    const failing: Service = {
      name: 'failing',
      start: () =>
        new Promise((_resolve, reject) => setTimeout(() => reject(new Error('bind failed')), 1000)),
    };
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      fetch: () => new Response('ok'),
      logger: silentLogger,
      services: [other, failing],
    });
    assert.equal((await fetch(server.url)).status, 200);
    await assert.rejects(server.done, /bind failed/);
    assert.equal(otherStopped, true);
    assert.equal(server.signal.aborted, true);
    await assert.rejects(fetch(server.url));
  },
);

test('close() lets a request in flight finish before the listener stops', { timeout: 20_000 }, async () => {
  let release: () => void = () => undefined;
  const slow = new Promise<void>((r) => (release = r));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    fetch: async () => {
      await slow;
      return new Response('finished');
    },
    logger: silentLogger,
  });
  const inFlight = fetch(server.url).then((r) => r.text());
  await new Promise((r) => setTimeout(r, 100));
  const closing = server.close();
  setTimeout(release, 200);
  assert.equal(await inFlight, 'finished');
  await closing;
});

test(
  'SSE over a socket reports store check progress; the log has no token',
  { timeout: 30_000 },
  async () => {
    await withTempDir(async (dir) => {
      const repo = await LocalApp.openDataDir(join(dir, 'data'));
      const lines: string[] = [];
      try {
        await repo
          .as({ user: 't', client: 't' })
          .accounts.addUser({ name: 'root', role: 'admin', scopes: [] });
        const { token } = await issueToken(new AccountStore(repo.database), { userName: 'root', name: 't' });
        const logger = createJsonLogger({ write: (s: string) => lines.push(s) });
        const { app } = createApp({ backend: repo, events: new EventHub(), logger, version: 't' });
        const server = await startServer({ host: '127.0.0.1', port: 0, fetch: app.fetch, logger });
        const auth = { authorization: `Bearer ${token}` };
        const controller = new AbortController();
        const events = await fetch(`${server.url}/api/v1/events`, {
          headers: auth,
          signal: controller.signal,
        });
        assert.equal(events.headers.get('content-type'), 'text/event-stream');
        const body = events.body;
        assert.ok(body !== null);
        const reader = (body as ReadableStream<Uint8Array>).getReader();
        let text = '';
        const decoder = new TextDecoder();
        const more = async (): Promise<string> => decoder.decode((await reader.read()).value);
        while (!text.includes('event: ready')) text += await more();
        const check = await fetch(`${server.url}/api/v1/store/check`, { method: 'POST', headers: auth });
        assert.equal(check.status, 200);
        while (!text.includes('event: done')) text += await more();
        assert.match(text, /"job":"check-1"/);
        controller.abort();
        await server.close();
        const log = lines.join('');
        assert.match(log, /"msg":"request"/);
        assert.ok(!log.includes(token));
        for (const line of lines) JSON.parse(line);
      } finally {
        await repo.close();
      }
    });
  },
);

/** Resolves once `condition` holds, checked every 20 ms. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

test('SSE: a store-wide job reaches only callers who may run it', { timeout: 30_000 }, async () => {
  await withTempDir(async (dir) => {
    const repo = await LocalApp.openDataDir(join(dir, 'data'));
    try {
      const setup = { user: 't', client: 't' };
      await repo.as(setup).accounts.addUser({ name: 'root', role: 'admin', scopes: [] });
      await repo.as(setup).accounts.addUser({ name: 'eve', role: 'viewer', scopes: ['team-a/'] });
      const admin = (await issueToken(new AccountStore(repo.database), { userName: 'root', name: 't' }))
        .token;
      const viewer = (await issueToken(new AccountStore(repo.database), { userName: 'eve', name: 't' }))
        .token;
      const { app } = createApp({
        backend: repo,
        events: new EventHub(),
        logger: silentLogger,
        version: 't',
      });
      const server = await startServer({
        host: '127.0.0.1',
        port: 0,
        fetch: app.fetch,
        logger: silentLogger,
      });
      const controller = new AbortController();
      try {
        const open = async (token: string) => {
          const response = await fetch(`${server.url}/api/v1/events`, {
            headers: { authorization: `Bearer ${token}` },
            signal: controller.signal,
          });
          assert.ok(response.body !== null);
          const reader = (response.body as ReadableStream<Uint8Array>).getReader();
          const decoder = new TextDecoder();
          // Everything the stream sends is read as it comes, until the test aborts it.
          const stream = { text: '' };
          void (async () => {
            for (;;) stream.text += decoder.decode((await reader.read()).value);
          })().catch(() => undefined);
          await until(() => stream.text.includes('event: ready'));
          return stream;
        };
        const [adminStream, viewerStream] = [await open(admin), await open(viewer)];
        const check = await fetch(`${server.url}/api/v1/store/check`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}` },
        });
        assert.equal(check.status, 200);
        await until(() => adminStream.text.includes('event: done'));
        // Events are handed to every subscriber as they are published: by the admin's `done`, the
        // viewer's stream has been offered the same events, and refused them.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.match(adminStream.text, /"job":"check-1"/);
        assert.match(viewerStream.text, /event: ready/);
        assert.doesNotMatch(viewerStream.text, /check-1/);
      } finally {
        controller.abort();
        await server.close();
      }
    } finally {
      await repo.close();
    }
  });
});
