// The API in-process (app.request()): every route is in the OpenAPI document and back, and answers
// as it says; deduplication never crosses scopes; names and paths with '..', control characters
// and encoded tricks; bad input answered with a clear error and nothing changed. The RBAC matrix
// is rbac-matrix.test.ts.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { AccountStore } from '../../src/auth/account-store.ts';
import { issueToken } from '../../src/auth/tokens.ts';
import type { JobEvent } from '../../src/app/events.ts';
import { createPrng } from '../../src/image/sample/prng.ts';
import { createApp } from '../../src/server/app.ts';
import { silentLogger } from '../../src/server/log.ts';
import { openApiPath } from '../../src/server/routes.ts';
import { sha256Hex } from '../../src/store/manifest.ts';
import { DEFAULT_META } from '../../src/store/repository.ts';
import {
  ADMIN,
  call,
  manifestOf,
  openUploads,
  PASSWORD,
  prepare,
  seedDeployment,
  seedImage,
  seedUpload,
  withFixture,
  type Fixture,
} from '../helpers/api-fixture.ts';

test('every route the app serves is in the OpenAPI document, and every documented route is served', async () => {
  await withFixture(async ({ app }) => {
    const served = new Set(
      app.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const response = await app.app.request('/api/openapi.json');
    assert.equal(response.status, 200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    assert.deepEqual([...served].sort(), [...documented].sort());
    assert.ok(served.size >= 20);
  });
});

test('every answer of every route, and every error, has the shape the served OpenAPI document gives', async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    await seedImage(repo, 'team-a/img', 'v1');
    const doc = (await (await app.app.request('/api/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>
      >;
      components: { schemas: Record<string, object> };
    };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const schemaOf = (path: string, method: string, status: number): object | undefined => {
      const responses = doc.paths[path]?.[method.toLowerCase()]?.responses ?? {};
      const answer = responses[String(status)] ?? responses.default;
      const schema = answer?.content?.['application/json']?.schema;
      return schema === undefined
        ? undefined
        : (JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"doc#/components')) as object);
    };
    let checked = 0;
    for (const route of app.routes) {
      // /metrics is text, open to addresses (none in-process) or its own token: test/server/metrics.test.ts.
      if (route.path.startsWith('/boot/') || route.path === '/api/v1/events' || route.path === '/metrics')
        continue;
      const { path, init } = await prepare(repo, route.method, route.path, 'team-a');
      const headers = new Headers(init?.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${tokens.admin}`);
      const response = await app.app.request(path, { ...init, headers });
      assert.equal(response.status, route.ok.status, `${route.method} ${route.path}: ${response.status}`);
      const schema = schemaOf(route.path, route.method, response.status);
      if (route.path === '/api/openapi.json' || schema === undefined) {
        await response.body?.cancel();
        continue;
      }
      const body: unknown = await response.json();
      const validate = ajv.compile(schema);
      assert.ok(
        validate(body),
        `${route.method} ${route.path}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 400)}`,
      );
      checked++;
    }
    assert.ok(checked >= 18, `${checked} answers checked`);
    const error = await app.app.request('/api/v1/images/team-a%2Fnone/tags/v1', {
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    const validateError = ajv.compile(
      schemaOf('/api/v1/images/{name}/tags/{tag}', 'GET', error.status) ?? {},
    );
    assert.ok(validateError(await error.json()), ajv.errorsText(validateError.errors));
  });
});

/** Pushes `bytes` as `name:tag` through the API as `token`; the chunks the server asked for. */
async function apiPush(
  app: Fixture['app'],
  token: string,
  name: string,
  tag: string,
  bytes: Uint8Array,
): Promise<{ missing: string[]; commit: number }> {
  const { manifest, chunks } = manifestOf(bytes);
  const begun = await call(app, token, 'POST', '/api/v1/uploads', { name, tag, manifest });
  assert.equal(begun.status, 201, JSON.stringify(begun.json));
  const id = begun.json.id as string;
  const missing = begun.json.missing as string[];
  for (const digest of missing) {
    const chunk = chunks.find((c) => c.digest === digest);
    assert.ok(chunk !== undefined);
    assert.equal(
      (await call(app, token, 'PUT', `/api/v1/uploads/${id}/chunks/${digest}`, chunk.bytes)).status,
      204,
    );
  }
  const commit = await call(app, token, 'POST', `/api/v1/uploads/${id}/commit`, { meta: {} });
  return { missing, commit: commit.status };
}

test("dedup never crosses scopes: a manifest naming another scope's chunks gets them all asked for", async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    const secret = randomBytes(60_000);
    await apiPush(app, tokens.admin, 'team-b/secret', 'v1', secret);
    const image = await repo.as(ADMIN).images.getImage({ name: 'team-b/secret', tag: 'v1' });
    const { manifest } = manifestOf(secret);
    // The attack: a builder of team-a/ opens an upload in its own scope with team-b's manifest,
    // and commits without sending a byte.
    const begun = await call(app, tokens.builder, 'POST', '/api/v1/uploads', {
      name: 'team-a/stolen',
      tag: 'v1',
      manifest,
    });
    assert.equal(begun.status, 201);
    assert.deepEqual(begun.json.missing, [...new Set(manifest.chunks.map((c) => c.digest))]);
    const commit = await call(
      app,
      tokens.builder,
      'POST',
      `/api/v1/uploads/${begun.json.id as string}/commit`,
      {
        meta: {},
      },
    );
    assert.equal(commit.status, 409);
    assert.equal(
      (await call(app, tokens.builder, 'GET', '/api/v1/images/team-a%2Fstolen/tags/v1')).status,
      404,
    );
    // One chunk whose digest is the image's SHA-256 (as listings show it): asked for, like a chunk
    // that exists nowhere, so the answer tells nothing of what the store holds.
    const one = randomBytes(3000);
    await apiPush(app, tokens.admin, 'team-b/one', 'v1', one);
    const single = {
      schemaVersion: 1,
      mediaType: 'application/octet-stream',
      size: one.length,
      sha256: sha256Hex(one),
      chunks: [{ digest: sha256Hex(one), size: one.length }],
    };
    const probe = await call(app, tokens.builder, 'POST', '/api/v1/uploads', {
      name: 'team-a/probe',
      tag: 'v1',
      manifest: single,
    });
    assert.deepEqual(probe.json.missing, [sha256Hex(one)]);
    assert.equal(image.sha256, sha256Hex(secret));
  });
});

/** `length` pseudo-random bytes, the same for the same seed. */
function seededBytes(seed: number, length: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  createPrng(seed).fill(words);
  return new Uint8Array(words.buffer, 0, length);
}

test('dedup within scopes: a second version sends only its new chunks, across two scopes too', async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    // Seeded, not random: where content-defined chunking cuts depends on the bytes, and with some
    // bytes a 100-byte change moves more cuts than the bound below allows.
    const v1 = seededBytes(1, 200_000);
    const first = await apiPush(app, tokens.builder, 'team-a/ws', 'v1', v1);
    assert.equal(first.commit, 201);
    const v2 = new Uint8Array(v1);
    v2.set(seededBytes(2, 100), 150_000);
    const second = await apiPush(app, tokens.builder, 'team-a/ws', 'v2', v2);
    assert.equal(second.commit, 201);
    const all = new Set(manifestOf(v2).manifest.chunks.map((c) => c.digest));
    assert.ok(
      second.missing.length >= 1 && second.missing.length <= 3,
      `${second.missing.length} of ${all.size}`,
    );
    // A user of team-a/ and team-c/ reuses team-a's chunks for a team-c image, and the reverse.
    await repo.as(ADMIN).accounts.addUser({
      name: 'both',
      role: 'builder',
      scopes: ['team-a/', 'team-c/'],
      password: PASSWORD,
    });
    const both = (await issueToken(new AccountStore(repo.database), { userName: 'both', name: 'test' }))
      .token;
    const across = await apiPush(app, both, 'team-c/ws', 'v1', v2);
    assert.deepEqual(across, { missing: [], commit: 201 });
    const pulled = await call(app, both, 'GET', '/api/v1/images/team-c%2Fws/tags/v1');
    assert.equal(pulled.json.sha256, sha256Hex(v2));
  });
});

test("deployments of an image out of the caller's scopes are not listed, shown, logged nor sent as events", async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    await seedImage(repo, 'team-a/img', 'v1');
    await seedImage(repo, 'team-b/img', 'v1');
    const own = await seedDeployment(repo, 1, 'team-a');
    const other = await seedDeployment(repo, 2, 'team-b');
    const listed = async (token: string): Promise<string[]> =>
      ((await call(app, token, 'GET', '/api/v1/deployments')).json.deployments as { id: string }[])
        .map((d) => d.id)
        .sort();
    assert.deepEqual(await listed(tokens.viewer), [own.id]);
    assert.deepEqual(await listed(tokens.admin), [own.id, other.id].sort());
    for (const path of [`/api/v1/deployments/${other.id}`, `/api/v1/deployments/${other.id}/logs`]) {
      const answer = await call(app, tokens.viewer, 'GET', path);
      assert.equal(answer.status, 404, path);
      assert.doesNotMatch(JSON.stringify(answer.json), /team-b/);
      assert.equal((await call(app, tokens.admin, 'GET', path)).status, 200, path);
    }
    // The deployments' own event hub, as `winsmith server` serves it.
    const served = createApp({ backend: repo, events: repo.events, logger: silentLogger, version: 'test' });
    const controller = new AbortController();
    try {
      const response = await served.app.request('/api/v1/events', {
        headers: { authorization: `Bearer ${tokens.viewer}` },
        signal: controller.signal,
      });
      assert.ok(response.body !== null);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = '';
      const readUntil = async (wanted: string): Promise<void> => {
        while (!text.includes(wanted)) text += decoder.decode((await reader.read()).value);
      };
      await readUntil('event: ready');
      // Events come in the order they are published: had the first been sent, it would come first.
      await repo.as(ADMIN).deployments.cancel(other.id);
      await repo.as(ADMIN).deployments.cancel(own.id);
      await readUntil('event: deployment');
      await readUntil('\n\n');
      assert.match(text, new RegExp(own.id));
      assert.doesNotMatch(text, new RegExp(`${other.id}|team-b`));
    } finally {
      controller.abort();
    }
  });
});

test('machines added, changed, approved and removed are announced as they now are', async () => {
  await withFixture(async ({ repo }) => {
    const events: JobEvent[] = [];
    const unsubscribe = repo.events.subscribe((e) => events.push(e));
    try {
      const machines = repo.as(ADMIN).machines;
      const added = await machines.add({ name: 'web-01', mac: '52:54:00:e1:00:01' });
      const renamed = await machines.set('web-01', { name: 'web-02' });
      await repo.bootPorts().registry.registerMachine(
        {
          mac: '52:54:00:e1:00:02',
          uuid: null,
          inventory: { serial: null, manufacturer: null, product: null, buildarch: null, platform: null },
        },
        new Date(),
      );
      const approved = await machines.approve('52:54:00:e1:00:02');
      await machines.remove('web-02');
      const audience = { action: 'machines.read', image: null };
      assert.deepEqual(
        events.map((e) => [e.kind, e.audience, e.result]),
        [
          ['machine', audience, added],
          ['machine', audience, renamed],
          ['machine', audience, { ...approved, state: 'pending', lastSeen: approved.lastSeen }],
          ['machine', audience, approved],
          ['machine-removed', audience, { id: added.id }],
        ],
      );
      assert.equal(approved.state, 'ready');
    } finally {
      unsubscribe();
    }
  });
});

test('an upload the caller may not push to is not found, and its image name is not told', async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    const { id, chunk } = await seedUpload(repo, 'team-b/secret-name');
    const unknown = await call(app, tokens.builder, 'POST', `/api/v1/uploads/${crypto.randomUUID()}/commit`, {
      meta: {},
    });
    for (const [token, method, path, body] of [
      [tokens.viewer, 'POST', `/api/v1/uploads/${id}/commit`, { meta: {} }],
      [tokens.builder, 'POST', `/api/v1/uploads/${id}/commit`, { meta: {} }],
      [tokens.builder, 'PUT', `/api/v1/uploads/${id}/chunks/${chunk.digest}`, chunk.bytes],
    ] as const) {
      const answer = await call(app, token, method, path, body);
      assert.equal(answer.status, 404);
      assert.doesNotMatch(JSON.stringify(answer.json), /secret-name|team-b/);
    }
    assert.equal(unknown.status, 404);
  });
});

/** The records under `key` of each page of the listing `path` (with its query) asks, page after page. */
async function walkListing(
  app: Fixture['app'],
  token: string,
  path: string,
  key: string,
): Promise<{ records: Record<string, unknown>[]; pages: number }> {
  const limit = Number(new URL(path, 'http://x').searchParams.get('limit'));
  const records: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await call(app, token, 'GET', `${path}${query}`);
    assert.equal(page.status, 200);
    const found = page.json[key] as Record<string, unknown>[];
    assert.ok(found.length <= limit, `${found.length} ${key} in a page of ${limit}`);
    records.push(...found);
    cursor = page.json.next as string | null;
    pages++;
  } while (cursor !== null);
  return { records, pages };
}

/** A listing at `path` answers 400 to a limit out of range, a cursor it did not give, and `more`. */
async function refusesQueries(
  app: Fixture['app'],
  token: string,
  path: string,
  more: readonly string[],
): Promise<void> {
  for (const bad of ['?limit=0', '?limit=1001', '?limit=x', '?cursor=%2F%2F', ...more]) {
    assert.equal((await call(app, token, 'GET', `${path}${bad}`)).status, 400, bad);
  }
}

test('free-text metadata is limited; listings come a page at a time, without recipes', async () => {
  await withFixture(async ({ app, tokens }) => {
    const { manifest, chunks } = manifestOf(randomBytes(5000));
    const begun = await call(app, tokens.builder, 'POST', '/api/v1/uploads', {
      name: 'team-a/r0',
      tag: 'v1',
      manifest,
    });
    const id = begun.json.id as string;
    for (const c of chunks)
      await call(app, tokens.builder, 'PUT', `/api/v1/uploads/${id}/chunks/${c.digest}`, c.bytes);
    const huge = await call(app, tokens.builder, 'POST', `/api/v1/uploads/${id}/commit`, {
      meta: { recipe: { script: 'x'.repeat(300 * 1024) } },
    });
    assert.equal(huge.status, 413);
    assert.match((huge.json.error as { message: string }).message, /recipe/);
    const ok = await call(app, tokens.builder, 'POST', `/api/v1/uploads/${id}/commit`, {
      meta: { recipe: { steps: ['a'] } },
    });
    assert.equal(ok.status, 201);
    for (let i = 1; i < 5; i++) await apiPush(app, tokens.builder, `team-a/r${i}`, 'v1', randomBytes(3000));
    await apiPush(app, tokens.admin, 'team-b/hidden', 'v1', randomBytes(3000));
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await call(app, tokens.viewer, 'GET', `/api/v1/images?limit=2${query}`);
      assert.equal(page.status, 200);
      const images = page.json.images as Record<string, unknown>[];
      assert.ok(images.length <= 2);
      for (const image of images) {
        assert.equal('recipe' in image, false);
        names.push(image.name as string);
      }
      cursor = page.json.next as string | null;
      pages++;
    } while (cursor !== null);
    assert.deepEqual(names, ['team-a/r0', 'team-a/r1', 'team-a/r2', 'team-a/r3', 'team-a/r4']);
    assert.equal(pages, 3);
    const one = await call(app, tokens.viewer, 'GET', '/api/v1/images/team-a%2Fr0/tags/v1');
    assert.deepEqual(one.json.recipe, { steps: ['a'] });
    await refusesQueries(app, tokens.viewer, '/api/v1/images', [
      `?cursor=${Buffer.from('..:x').toString('base64url')}`,
    ]);
  });
});

test('machines come a page at a time, filtered by state and label on the server', async () => {
  await withFixture(async ({ app, tokens }) => {
    for (let i = 0; i < 5; i++) {
      const added = await call(app, tokens.operator, 'POST', '/api/v1/machines', {
        name: `web-${i}`,
        mac: `52:54:00:00:02:0${i}`,
        labels: i % 2 === 0 ? ['even'] : [],
      });
      assert.equal(added.status, 201);
    }
    const walk = async (filter: string): Promise<{ names: string[]; pages: number }> => {
      const { records, pages } = await walkListing(
        app,
        tokens.viewer,
        `/api/v1/machines?limit=2${filter}`,
        'machines',
      );
      return { names: records.map((m) => m.name as string), pages };
    };
    const all = await walk('');
    assert.equal(all.pages, 3);
    assert.deepEqual([...all.names].sort(), ['web-0', 'web-1', 'web-2', 'web-3', 'web-4']);
    const even = await walk('&state=ready&label=even');
    assert.deepEqual(
      even.names,
      all.names.filter((n) => ['web-0', 'web-2', 'web-4'].includes(n)),
    );
    assert.deepEqual((await walk('&state=pending')).names, []);
    const first = await call(app, tokens.viewer, 'GET', '/api/v1/machines');
    assert.deepEqual([(first.json.machines as unknown[]).length, first.json.next], [5, null]);
    await refusesQueries(app, tokens.viewer, '/api/v1/machines', [
      '?state=gone',
      `?cursor=${Buffer.from('["x"]').toString('base64url')}`,
    ]);
  });
});

test('deployments come a page at a time, newest first, only those whose image the caller may read', async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    for (const scope of ['team-a', 'team-b']) await seedImage(repo, `${scope}/img`, 'v1');
    const made: { id: string; scope: string }[] = [];
    for (const [n, scope] of ['team-a', 'team-b', 'team-a', 'team-b', 'team-a'].entries()) {
      made.push({ id: (await seedDeployment(repo, n, scope)).id, scope });
    }
    const walk = async (token: string): Promise<{ ids: string[]; pages: number }> => {
      const { records, pages } = await walkListing(app, token, '/api/v1/deployments?limit=2', 'deployments');
      return { ids: records.map((d) => d.id as string), pages };
    };
    const all = await walk(tokens.admin);
    assert.deepEqual([...all.ids].sort(), made.map((d) => d.id).sort());
    assert.equal(all.pages, 3);
    const teamA = made.filter((d) => d.scope === 'team-a').map((d) => d.id);
    const seen = await walk(tokens.viewer);
    assert.deepEqual(seen, { ids: all.ids.filter((id) => teamA.includes(id)), pages: 2 });
    await refusesQueries(app, tokens.viewer, '/api/v1/deployments', []);
  });
});

test('a commit whose manifest gives a false whole-content SHA-256 is refused and never listed', async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    const bytes = randomBytes(40_000);
    const { manifest, chunks } = manifestOf(bytes);
    const lie = { ...manifest, sha256: sha256Hex(randomBytes(8)) };
    const begun = await call(app, tokens.builder, 'POST', '/api/v1/uploads', {
      name: 'team-a/lie',
      tag: 'v1',
      manifest: lie,
    });
    const id = begun.json.id as string;
    for (const c of chunks)
      await call(app, tokens.builder, 'PUT', `/api/v1/uploads/${id}/chunks/${c.digest}`, c.bytes);
    const commit = await call(app, tokens.builder, 'POST', `/api/v1/uploads/${id}/commit`, { meta: {} });
    assert.equal(commit.status, 422);
    assert.match((commit.json.error as { message: string }).message, /SHA-256/);
    assert.equal(
      (await repo.as(ADMIN).images.listImages()).some((i) => i.name === 'team-a/lie'),
      false,
    );
  });
});

test("names and paths: '..', control characters and percent-encoded tricks are refused", async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    await seedImage(repo, 'team-a/img', 'v1');
    const auth = { authorization: `Bearer ${tokens.admin}` };
    const bad = [
      '/api/v1/images/team-a%2F..%2Fimg/tags/v1',
      '/api/v1/images/team-a%2F%2e%2e%2Fimg/tags/v1',
      '/api/v1/images/..%2F..%2Fetc%2Fpasswd/tags/v1',
      '/api/v1/images/team-a%2Fimg%00/tags/v1',
      '/api/v1/images/team-a%2Fimg%0A/tags/v1',
      '/api/v1/images/team-a%2Fimg/tags/%2e%2e',
      '/api/v1/images/team-a%2Fimg/tags/v1%0D',
      '/api/v1/images/Team-A%2Fimg/tags/v1',
      '/api/v1/images/team-a%252Fimg/tags/v1',
    ];
    for (const path of bad) {
      const response = await app.app.request(path, { headers: auth });
      const body = (await response.json()) as { error: { code: string; message: string } };
      // A name that fails validation is 400; a '..' segment the URL parser resolves matches no route (404).
      assert.ok([400, 404].includes(response.status), `${path}: ${response.status} ${JSON.stringify(body)}`);
      assert.ok(['INVALID_ARGUMENT', 'NOT_FOUND'].includes(body.error.code));
      assert.doesNotMatch(body.error.message, /[\0\n\r]/);
    }
    const literal = await app.app.request('/api/v1/images/team-a%2Fimg/tags/../../users', { headers: auth });
    assert.notEqual(literal.status, 200);
    const upload = await app.app.request(
      `/api/v1/uploads/..%2F..%2Fcatalog.sqlite/chunks/${'a'.repeat(64)}`,
      {
        method: 'PUT',
        headers: auth,
        body: new Uint8Array(4),
      },
    );
    assert.equal(upload.status, 404);
    const { id } = await seedUpload(repo, 'team-a/x');
    const digest = await app.app.request(`/api/v1/uploads/${id}/chunks/..%2F..%2Fmanifests%2Fx`, {
      method: 'PUT',
      headers: auth,
      body: new Uint8Array(4),
    });
    assert.equal(digest.status, 400);
    const push = await app.app.request('/api/v1/uploads', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'team-a/../x',
        tag: 'v1',
        manifest: manifestOf(randomBytes(100)).manifest,
      }),
    });
    assert.equal(push.status, 400);
  });
});

test('bad input over HTTP: clear errors, and nothing is changed', { timeout: 60_000 }, async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    const auth = { authorization: `Bearer ${tokens.builder}`, 'content-type': 'application/json' };
    const before = { stats: await repo.as(ADMIN).images.stats(), uploads: await openUploads(repo) };

    const login = await app.app.request('/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'viewer', password: 'wrong password!' }),
    });
    assert.equal(login.status, 401);
    assert.match(
      ((await login.json()) as { error: { message: string } }).error.message,
      /wrong user name or password/,
    );

    const malformed = await app.app.request('/api/v1/uploads', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'team-a/m', tag: 'v1', manifest: { schemaVersion: 1, chunks: 'nope' } }),
    });
    assert.equal(malformed.status, 400);
    assert.match(
      ((await malformed.json()) as { error: { message: string } }).error.message,
      /^the request body at manifest\.\w+: /,
    );
    const uncanonical = await app.app.request('/api/v1/uploads', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        name: 'team-a/m',
        tag: 'v1',
        manifest: { schemaVersion: 1, mediaType: 'x/y', size: 5, sha256: 'a'.repeat(64), chunks: [] },
      }),
    });
    assert.equal(uncanonical.status, 422);
    assert.equal(((await uncanonical.json()) as { error: { code: string } }).error.code, 'FORMAT_INVALID');
    const notJson = await app.app.request('/api/v1/uploads', { method: 'POST', headers: auth, body: '{' });
    assert.equal(notJson.status, 400);

    const { manifest, chunks } = manifestOf(randomBytes(30_000));
    const opened = await app.app.request('/api/v1/uploads', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'team-a/h', tag: 'v1', manifest }),
    });
    assert.equal(opened.status, 201);
    const { id } = (await opened.json()) as { id: string };
    const first = chunks[0];
    assert.ok(first !== undefined);
    const tampered = Uint8Array.from(first.bytes);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    const wrongHash = await app.app.request(`/api/v1/uploads/${id}/chunks/${first.digest}`, {
      method: 'PUT',
      headers: { authorization: auth.authorization },
      body: tampered,
    });
    assert.equal(wrongHash.status, 422);
    const commit = await app.app.request(`/api/v1/uploads/${id}/commit`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    });
    assert.equal(commit.status, 409);
    assert.deepEqual(await repo.as(ADMIN).images.stats(), before.stats);
    assert.deepEqual(await repo.as(ADMIN).images.listImages(), []);

    const unknown = await app.app.request('/api/v1/images/team-a%2Fnone/tags/v1', { headers: auth });
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /team-a\/none:v1/);

    await seedImage(repo, 'team-a/gone', 'v1');
    const removed = await app.app.request('/api/v1/images/team-a%2Fgone/tags/v1', {
      method: 'DELETE',
      headers: auth,
    });
    assert.equal(removed.status, 204);
    const pullRemoved = await app.app.request('/api/v1/images/team-a%2Fgone/tags/v1/content', {
      headers: auth,
    });
    assert.equal(pullRemoved.status, 404);

    assert.equal((await repo.as(ADMIN).images.listImages()).length, 0);
    assert.equal(await openUploads(repo), before.uploads + 2);
    const audit = await repo.as(ADMIN).accounts.listAudit(100);
    assert.ok(audit.some((e) => e.action === 'user.login.failed'));
    assert.ok(audit.some((e) => e.action === 'image.remove' && e.actor === 'builder'));
  });
});

test('Range requests give exact slices; a bad range is refused', async () => {
  await withFixture(async ({ repo, app, tokens }) => {
    const bytes = randomBytes(50_000);
    const r = repo.as(ADMIN).images;
    const { manifest, chunks } = manifestOf(bytes);
    const session = await r.beginUpload({ name: 'team-a/r', tag: 'v1' }, manifest);
    for (const c of chunks) await r.putChunk(session.id, c.digest, c.bytes);
    await r.commitUpload(session.id, DEFAULT_META);
    const auth = { authorization: `Bearer ${tokens.viewer}` };
    for (const [range, start, end] of [
      ['bytes=0-0', 0, 0],
      ['bytes=100-20000', 100, 20000],
      ['bytes=49990-', 49990, 49999],
      ['bytes=-10', 49990, 49999],
    ] as const) {
      const response = await app.app.request('/api/v1/images/team-a%2Fr/tags/v1/content', {
        headers: { ...auth, range },
      });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get('content-range'), `bytes ${start}-${end}/50000`);
      assert.deepEqual(
        new Uint8Array(await response.arrayBuffer()),
        new Uint8Array(bytes.subarray(start, end + 1)),
      );
    }
    for (const range of ['bytes=60000-', 'bytes=9-3', 'bytes=-0', 'bytes=0-1,5-6', 'bytes=x-']) {
      const bad = await app.app.request('/api/v1/images/team-a%2Fr/tags/v1/content', {
        headers: { ...auth, range },
      });
      assert.equal(bad.status, 416, range);
      assert.equal(bad.headers.get('content-range'), 'bytes */50000');
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'RANGE_NOT_SATISFIABLE');
    }
  });
});
