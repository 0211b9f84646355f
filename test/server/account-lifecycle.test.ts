// Account lifecycle through the API, on a SQLite catalog and on PostgreSQL (a private cluster;
// skipped, with the reason, only when its binaries are not installed): the last enabled admin is
// neither disabled, demoted nor removed; a disabled user's tokens, login sessions and open event
// stream stop at once; a revoked token is refused from the next request; one's own password is
// changed only with the current one; every change is in the audit log.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventHub } from '../../src/app/events.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import { embeddedSettings } from '../../src/config/server-config.ts';
import type { DatabaseConfig } from '../../src/db/database.ts';
import { withTempDir } from '../../src/io/output.ts';
import { createApp } from '../../src/server/app.ts';
import { silentLogger } from '../../src/server/log.ts';
import { postgresSkipReason, startPostgres, type PostgresCluster } from '../helpers/postgres.ts';

const PASSWORD = 'correct horse battery staple';
const SETUP = { user: 'setup', client: 'test' };

type Api = (
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; json: Record<string, unknown> }>;

async function withApi(
  catalog: (dir: string) => Promise<DatabaseConfig>,
  fn: (
    api: Api,
    app: LocalApp,
    events: EventHub,
    request: ReturnType<typeof createApp>['app']['request'],
  ) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const app = await LocalApp.openConfigured({
      ...embeddedSettings(join(dir, 'data')),
      catalog: await catalog(dir),
    });
    const events = new EventHub();
    const served = createApp({ backend: app, events, logger: silentLogger, version: 'test' });
    const request = served.app.request.bind(served.app);
    const api: Api = async (token, method, path, body) => {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await request(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return {
        status: response.status,
        json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      };
    };
    try {
      await fn(api, app, events, request);
    } finally {
      await app.close();
    }
  });
}

/** A token of `user` from a password login, as `winsmith login` gets one. */
async function login(api: Api, user: string, password = PASSWORD): Promise<string> {
  const answer = await api(null, 'POST', '/api/v1/login', { user, password });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return answer.json.token as string;
}

function messageOf(answer: { json: Record<string, unknown> }): string {
  return (answer.json.error as { message: string } | undefined)?.message ?? '';
}

function lifecycleTests(
  label: string,
  catalog: (dir: string) => Promise<DatabaseConfig>,
  skip?: string,
): void {
  test(
    `${label}: the last enabled admin is neither disabled, demoted nor removed`,
    { skip, timeout: 120_000 },
    async () => {
      await withApi(catalog, async (api, app) => {
        await app.as(SETUP).accounts.addUser({ name: 'root', role: 'admin', scopes: [], password: PASSWORD });
        const root = await login(api, 'root');
        for (const [method, body] of [
          ['PATCH', { disabled: true }],
          ['PATCH', { role: 'viewer' }],
          ['DELETE', undefined],
        ] as const) {
          const refused = await api(root, method, '/api/v1/users/root', body);
          assert.equal(refused.status, 409, `${method} ${JSON.stringify(body)}`);
          assert.match(messageOf(refused), /root is the last enabled admin/);
        }
        assert.equal((await api(root, 'GET', '/api/v1/users/root')).json.role, 'admin');
        assert.equal((await api(root, 'PATCH', '/api/v1/users/root', {})).status, 400, 'nothing to change');
        // A disabled admin does not count: making one does not free the last enabled one.
        assert.equal(
          (await api(root, 'POST', '/api/v1/users', { name: 'ann', role: 'admin', password: PASSWORD }))
            .status,
          201,
        );
        assert.equal((await api(root, 'PATCH', '/api/v1/users/ann', { disabled: true })).status, 200);
        assert.equal((await api(root, 'DELETE', '/api/v1/users/root')).status, 409);
        assert.equal((await api(root, 'PATCH', '/api/v1/users/ann', { disabled: false })).status, 200);
        const demoted = await api(root, 'PATCH', '/api/v1/users/root', { role: 'viewer' });
        assert.equal(demoted.status, 200, JSON.stringify(demoted.json));
        assert.equal(
          (await api(root, 'GET', '/api/v1/users')).status,
          403,
          'a demoted admin is a viewer at once',
        );
        const ann = await login(api, 'ann');
        assert.equal((await api(ann, 'DELETE', '/api/v1/users/ann')).status, 409);
        assert.equal((await api(ann, 'DELETE', '/api/v1/users/root')).status, 204);
        assert.equal(
          (await api(root, 'GET', '/api/v1/tokens')).status,
          401,
          'a removed user is locked out at once',
        );
        const actions = (
          (await api(ann, 'GET', '/api/v1/audit')).json.entries as { action: string; target: string }[]
        ).map((e) => `${e.action} ${e.target}`);
        for (const wanted of ['user.add ann', 'user.change ann', 'user.change root', 'user.remove root']) {
          assert.ok(actions.includes(wanted), `${wanted} in ${actions.join(', ')}`);
        }
      });
    },
  );

  test(
    `${label}: a disabled user is locked out at once: tokens, login sessions, event streams`,
    { skip, timeout: 120_000 },
    async () => {
      await withApi(catalog, async (api, app, events, request) => {
        const setup = app.as(SETUP).accounts;
        await setup.addUser({ name: 'root', role: 'admin', scopes: [], password: PASSWORD });
        await setup.addUser({ name: 'bob', role: 'builder', scopes: [], password: PASSWORD });
        const root = await login(api, 'root');
        const session = await login(api, 'bob');
        const created = await api(session, 'POST', '/api/v1/tokens', { name: 'ci' });
        assert.equal(created.status, 201);
        const token = created.json.token as string;
        for (const t of [session, token]) assert.equal((await api(t, 'GET', '/api/v1/images')).status, 200);

        const controller = new AbortController();
        const stream = await request('/api/v1/events', {
          headers: { authorization: `Bearer ${token}` },
          signal: controller.signal,
        });
        assert.equal(stream.status, 200);
        const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
        const decoder = new TextDecoder();
        let received = decoder.decode((await reader.read()).value);
        assert.match(received, /event: ready/);

        assert.equal((await api(root, 'PATCH', '/api/v1/users/bob', { disabled: true })).status, 200);
        for (const t of [session, token]) assert.equal((await api(t, 'GET', '/api/v1/images')).status, 401);
        assert.equal(
          (await api(null, 'POST', '/api/v1/login', { user: 'bob', password: PASSWORD })).status,
          401,
        );
        events.publish({
          job: 'after-disable',
          audience: { action: 'store.read', image: null },
          kind: 'progress',
        });
        for (;;) {
          const next = await reader.read();
          if (next.done) break;
          received += decoder.decode(next.value);
        }
        controller.abort();
        assert.doesNotMatch(received, /after-disable/, 'the stream ended before the event');

        assert.equal((await api(root, 'PATCH', '/api/v1/users/bob', { disabled: false })).status, 200);
        assert.equal(
          (await api(token, 'GET', '/api/v1/images')).status,
          200,
          'enabled again, its tokens work again',
        );
        const audit = (await api(root, 'GET', '/api/v1/audit')).json.entries as {
          action: string;
          details: Record<string, unknown>;
        }[];
        assert.deepEqual(
          audit.filter((e) => e.action === 'user.change').map((e) => e.details.disabled),
          [false, true],
        );
      });
    },
  );

  test(
    `${label}: a revoked token is refused at once; listings never show a secret`,
    { skip, timeout: 120_000 },
    async () => {
      await withApi(catalog, async (api, app) => {
        const setup = app.as(SETUP).accounts;
        await setup.addUser({ name: 'root', role: 'admin', scopes: [], password: PASSWORD });
        await setup.addUser({ name: 'bob', role: 'builder', scopes: ['team-a/'], password: PASSWORD });
        await setup.addUser({ name: 'vic', role: 'viewer', scopes: [], password: PASSWORD });
        const root = await login(api, 'root');
        const bob = await login(api, 'bob');
        const vic = await login(api, 'vic');
        const ci = (await api(bob, 'POST', '/api/v1/tokens', { name: 'ci', scopes: ['team-a/ci'] })).json
          .token as string;
        const spare = (await api(bob, 'POST', '/api/v1/tokens', { name: 'spare' })).json.token as string;

        const own = await api(bob, 'GET', '/api/v1/tokens');
        const listed = own.json.tokens as {
          id: string;
          name: string;
          user: string;
          scopes: string[];
          state: string;
        }[];
        assert.deepEqual(listed.map((t) => [t.name, t.user, t.scopes, t.state]).sort(), [
          ['ci', 'bob', ['team-a/ci/'], 'active'],
          ['login from unknown', 'bob', [], 'active'],
          ['spare', 'bob', ['team-a/'], 'active'],
        ]);
        const everyone = await api(root, 'GET', '/api/v1/tokens?all=true');
        assert.deepEqual(
          [...new Set((everyone.json.tokens as { user: string }[]).map((t) => t.user))].sort(),
          ['bob', 'root', 'vic'],
        );
        for (const text of [JSON.stringify(own.json), JSON.stringify(everyone.json)]) {
          for (const secret of [ci, spare, bob, vic, root]) assert.ok(!text.includes(secret));
          assert.doesNotMatch(text, /hash/i);
        }
        assert.equal((await api(vic, 'GET', '/api/v1/tokens?all=true')).status, 403);
        assert.equal((await api(vic, 'GET', '/api/v1/tokens?user=bob')).status, 403);

        const ciId = listed.find((t) => t.name === 'ci')?.id ?? '';
        const spareId = listed.find((t) => t.name === 'spare')?.id ?? '';
        assert.equal(
          (await api(vic, 'DELETE', `/api/v1/tokens/${ciId}`)).status,
          404,
          "another's token is not found",
        );
        assert.equal((await api(ci, 'GET', '/api/v1/images')).status, 200);
        assert.equal((await api(bob, 'DELETE', `/api/v1/tokens/${ciId}`)).status, 204);
        assert.equal((await api(ci, 'GET', '/api/v1/images')).status, 401);
        assert.equal(
          (await api(bob, 'DELETE', `/api/v1/tokens/${ciId}`)).status,
          204,
          'revoking again changes nothing',
        );
        assert.equal((await api(bob, 'GET', '/api/v1/images')).status, 200, 'the other tokens still work');
        assert.equal(
          (await api(root, 'DELETE', `/api/v1/tokens/${spareId}`)).status,
          204,
          "an admin revokes anyone's",
        );
        assert.equal((await api(spare, 'GET', '/api/v1/images')).status, 401);
        assert.equal((await api(root, 'DELETE', '/api/v1/tokens/no-such-token')).status, 404);
        const states = (
          (await api(bob, 'GET', '/api/v1/tokens')).json.tokens as { name: string; state: string }[]
        ).map((t) => `${t.name} ${t.state}`);
        assert.deepEqual(states.sort(), ['ci revoked', 'login from unknown active', 'spare revoked']);
        const revocations = (
          (await api(root, 'GET', '/api/v1/audit')).json.entries as { action: string; actor: string }[]
        )
          .filter((e) => e.action === 'token.revoke')
          .map((e) => e.actor);
        assert.deepEqual(revocations, ['root', 'bob']);
      });
    },
  );

  test(
    `${label}: one's own password changes only with the current one; an admin resets anyone's`,
    { skip, timeout: 120_000 },
    async () => {
      await withApi(catalog, async (api, app) => {
        const setup = app.as(SETUP).accounts;
        await setup.addUser({ name: 'root', role: 'admin', scopes: [], password: PASSWORD });
        await setup.addUser({ name: 'bob', role: 'viewer', scopes: [], password: PASSWORD });
        const root = await login(api, 'root');
        const bob = await login(api, 'bob');
        const path = '/api/v1/users/bob/password';
        assert.equal((await api(bob, 'PUT', path, { password: 'a new password 1' })).status, 400);
        assert.equal(
          (await api(bob, 'PUT', path, { currentPassword: 'not it at all', password: 'a new password 1' }))
            .status,
          401,
        );
        assert.equal(
          (await api(bob, 'PUT', path, { currentPassword: PASSWORD, password: 'a new password 1' })).status,
          200,
        );
        await login(api, 'bob', 'a new password 1');
        assert.equal(
          (await api(bob, 'PUT', '/api/v1/users/root/password', { password: 'taken over 123' })).status,
          403,
        );
        const reset = await api(root, 'PUT', path, {});
        assert.equal(reset.status, 200);
        await login(api, 'bob', reset.json.password as string);
        const audit = (await api(root, 'GET', '/api/v1/audit')).json.entries as {
          action: string;
          details: Record<string, unknown>;
        }[];
        assert.deepEqual(
          audit.filter((e) => e.action === 'user.password').map((e) => [e.details.own, e.details.generated]),
          [
            [false, true],
            [true, false],
          ],
        );
        assert.ok(!JSON.stringify(audit).includes(reset.json.password as string));
      });
    },
  );
}

lifecycleTests('sqlite', (dir) => Promise.resolve({ kind: 'sqlite', path: join(dir, 'catalog.sqlite') }));

const skip = postgresSkipReason();
let cluster: PostgresCluster | undefined;
if (skip === undefined) {
  before(async () => {
    cluster = await startPostgres();
  });
  after(async () => {
    await cluster?.stop();
  });
}
lifecycleTests(
  'postgres',
  async () => {
    if (cluster === undefined) throw new Error('the PostgreSQL cluster did not start');
    return { kind: 'postgres', url: await cluster.createDatabase() };
  },
  skip,
);
