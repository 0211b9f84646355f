// The HTTP API in-process (app.request()) with a repository to act on: users of each role (scoped
// to team-a/ but the admin) with their tokens and an expired one, the images, uploads, machines,
// profiles, deployments and captures routes act on, and a request to each route that succeeds when
// its caller is allowed. What the API tests (app.test.ts, rbac-matrix.test.ts) share.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROLES, type Role } from '../../src/auth/roles.ts';
import { AccountStore } from '../../src/auth/account-store.ts';
import { issueToken } from '../../src/auth/tokens.ts';
import { withTempDir } from '../../src/io/output.ts';
import { createApp } from '../../src/server/app.ts';
import { EventHub } from '../../src/app/events.ts';
import { silentLogger } from '../../src/server/log.ts';
import { chunkBytes } from '../../src/store/chunker.ts';
import { MEDIA_TYPES, sha256Hex, type Manifest } from '../../src/store/manifest.ts';
import { DEFAULT_META } from '../../src/store/repository.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import { runProgram } from '../../src/engines/run.ts';
import { kyselyOf } from '../../src/db/database.ts';

export const CHUNKING = { minSize: 4096, avgSize: 8192, maxSize: 32768 };
export const ADMIN = { user: 'setup', client: 'test' };
export const PASSWORD = 'correct horse battery staple';

export function manifestOf(bytes: Uint8Array): {
  manifest: Manifest;
  chunks: { digest: string; bytes: Uint8Array }[];
} {
  const chunks = [...chunkBytes(bytes, CHUNKING)].map((c) => ({
    digest: c.digest,
    bytes: c.bytes,
    size: c.size,
  }));
  return {
    manifest: {
      schemaVersion: 1,
      mediaType: 'application/octet-stream',
      size: bytes.length,
      sha256: sha256Hex(bytes),
      chunks: chunks.map((c) => ({ digest: c.digest, size: c.size })),
    },
    chunks,
  };
}

export interface Fixture {
  readonly repo: LocalApp;
  readonly app: ReturnType<typeof createApp>;
  readonly tokens: Record<Role, string>;
  readonly expired: string;
  /** The data directory the app serves (its secrets key in it). */
  readonly dataDir: string;
}

export async function withFixture(fn: (f: Fixture) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    // Builds are queued and wait (none runs): each can be shown, cancelled and resumed.
    const repo = await LocalApp.openDataDir(join(dir, 'data'), { chunking: CHUNKING, builds: { max: 0 } });
    await mkdir(join(dir, 'data', 'share', 'scripts'), { recursive: true });
    await writeFile(join(dir, 'data', 'share', 'scripts', 'first.cmd'), 'echo first\r\n');
    await writeFile(join(dir, 'data', 'share', 'windows.iso'), 'an ISO the build checks when it runs');
    await repo.serveBuilds();
    buildsDir = join(dir, 'data', 'builds');
    try {
      const tokens = {} as Record<Role, string>;
      for (const role of ROLES) {
        await repo.as(ADMIN).accounts.addUser({
          name: role,
          role,
          scopes: role === 'admin' ? [] : ['team-a/'],
          password: PASSWORD,
        });
        tokens[role] = (
          await issueToken(new AccountStore(repo.database), { userName: role, name: 'test' })
        ).token;
      }
      const past = new Date(Date.now() - 3600_000);
      const expired = (
        await issueToken(new AccountStore(repo.database), {
          userName: 'admin',
          name: 'old',
          lifetimeSeconds: 60,
          now: past,
        })
      ).token;
      const app = createApp({ backend: repo, events: new EventHub(), logger: silentLogger, version: 'test' });
      await fn({ repo, app, tokens, expired, dataDir: join(dir, 'data') });
    } finally {
      await repo.close();
    }
  });
}

/** The builds folder of the fixture's data directory. */
let buildsDir = '';

/** A build recipe storing `${scope}/img:bN`, its ISO in the deployment share. */
function buildRecipe(scope: string, n: number): string {
  return `source: { iso: windows.iso, sha256: '${'0'.repeat(64)}', edition: 1 }\noutput: { tag: ${scope}/img:b${n} }\n`;
}

/** A build of `${scope}/img:bN` queued by the set-up user (cancelled when asked, with a screenshot). */
async function seedBuild(
  repo: LocalApp,
  n: number,
  scope: string,
  then: 'queued' | 'cancelled' | 'screenshot' = 'queued',
): Promise<string> {
  const builds = repo.as(ADMIN).builds;
  const { id } = await builds.start({ recipe: buildRecipe(scope, n), file: `b${n}.yaml` });
  if (then === 'cancelled') await builds.cancel(id);
  if (then === 'screenshot') {
    const work = join(buildsDir, id, 'work');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'screenshot.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
  }
  return id;
}

/** The uploads of any state the catalog holds. */
export async function openUploads(repo: LocalApp): Promise<number> {
  return (await kyselyOf(repo.database).selectFrom('uploads').select('id').execute()).length;
}

/** An image pushed directly (as the set-up user) so that routes have something to act on. */
export async function seedImage(repo: LocalApp, name: string, tag: string): Promise<void> {
  const r = repo.as(ADMIN).images;
  const { manifest, chunks } = manifestOf(randomBytes(20_000));
  const session = await r.beginUpload({ name, tag }, manifest);
  for (const c of chunks) await r.putChunk(session.id, c.digest, c.bytes);
  await r.commitUpload(session.id, DEFAULT_META);
}

/** capturedWim() pushed as `name`:v1 with its one edition recorded, unless it is there already. */
async function seedWimImage(repo: LocalApp, name: string): Promise<void> {
  const r = repo.as(ADMIN).images;
  const there = await r.getImage({ name, tag: 'v1' }).then(
    () => true,
    () => false,
  );
  if (there) return;
  const { manifest, chunks } = manifestOf(await capturedWim());
  const session = await r.beginUpload({ name, tag: 'v1' }, { ...manifest, mediaType: MEDIA_TYPES.wim });
  for (const c of chunks) await r.putChunk(session.id, c.digest, c.bytes);
  await r.commitUpload(session.id, {
    ...DEFAULT_META,
    mediaType: MEDIA_TYPES.wim,
    editions: [{ index: 1, name: 'captured' }],
  });
}

/** An open upload with every chunk sent, ready to commit; returns its id and one chunk. */
export async function seedUpload(
  repo: LocalApp,
  name: string,
): Promise<{ id: string; chunk: { digest: string; bytes: Uint8Array } }> {
  const r = repo.as(ADMIN).images;
  const { manifest, chunks } = manifestOf(randomBytes(10_000));
  const session = await r.beginUpload({ name, tag: 'v1' }, manifest);
  for (const c of chunks) await r.putChunk(session.id, c.digest, c.bytes);
  const chunk = chunks[0];
  assert.ok(chunk !== undefined);
  return { id: session.id, chunk };
}

/** A viewer added by the set-up user for request `n`; its name. */
async function seedUser(repo: LocalApp, n: number): Promise<string> {
  return (await repo.as(ADMIN).accounts.addUser({ name: `seed-${n}`, role: 'viewer', scopes: [] })).name;
}

/** A MAC of its own for request `n`. */
export function macOf(n: number): string {
  return `52:54:00:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
}

/** A machine registered by the set-up user for request `n`; its name. */
export async function seedMachine(repo: LocalApp, n: number): Promise<string> {
  const machine = await repo.as(ADMIN).machines.add({ name: `seed-${n}`, mac: macOf(n + 10_000) });
  return machine.name ?? '';
}

/** A profile named `name` deploying `${scope}/img:v1`, stored by the set-up user. */
export async function seedProfile(repo: LocalApp, name: string, scope: string): Promise<string> {
  const yaml = `name: ${name}\nimage: ${scope}/img:v1\nadminPassword: generate\ncustomize: [ { firstboot: [ { cmd: { file: scripts/first.cmd } } ] } ]\n`;
  return (await repo.as(ADMIN).profiles.apply(yaml, `${name}.yaml`)).name;
}

/**
 * A deployment of `${scope}/img:v1` on a machine of its own, by the set-up user; started (as its
 * boot script does: its agent's token made) or cancelled when asked.
 */
export async function seedDeployment(
  repo: LocalApp,
  n: number,
  scope: string,
  then: 'queued' | 'started' | 'cancelled' = 'queued',
): Promise<{ id: string; machine: string; token: string }> {
  const session = repo.as(ADMIN);
  const machine = await session.machines.add({ name: `dep-${n}`, mac: macOf(n + 20_000) });
  const profile = await seedProfile(repo, `p-${n}`, scope);
  const deployment = await session.deployments.create({ machine: machine.id, profile });
  let token = '';
  if (then === 'started') {
    const started = await repo.bootPorts().registry.startDeployment(macOf(n + 20_000));
    assert.ok(started !== null);
    token = started.token;
  }
  if (then === 'cancelled') await session.deployments.cancel(deployment.id);
  return { id: deployment.id, machine: machine.id, token };
}

/** A capture of `${scope}/img:cap-N` on a machine of its own, started (its agent's token made). */
export async function seedCapture(repo: LocalApp, n: number, scope: string): Promise<string> {
  const machine = await repo.as(ADMIN).machines.add({ name: `cap-${n}`, mac: macOf(n + 30_000) });
  await repo.as(ADMIN).deployments.capture({ machine: machine.id, tag: `${scope}/img:cap-${n}` });
  const started = await repo.bootPorts().registry.startDeployment(macOf(n + 30_000));
  assert.ok(started !== null);
  return started.token;
}

let smallWim: Uint8Array | null = null;

/** A WIM of one small directory, as wimlib writes it to a pipe (what a capture's agent sends). */
export async function capturedWim(): Promise<Uint8Array> {
  if (smallWim !== null) return smallWim;
  const made = await withTempDir(async (dir) => {
    await mkdir(join(dir, 'tree', 'Windows'), { recursive: true });
    await writeFile(join(dir, 'tree', 'Windows', 'win.ini'), randomBytes(3000));
    return (await runProgram('wimlib-imagex', ['capture', join(dir, 'tree'), '-', 'captured'])).stdout;
  }, 'winsmith-capture-wim-');
  smallWim = new Uint8Array(made);
  return smallWim;
}

export type Prepared = { path: string; init?: RequestInit };
let counter = 0;

/**
 * A request to `route` that succeeds when allowed, about image names under `scope`, made by user
 * `caller` (a change of one's own password, a revocation of one's own token).
 */
export async function prepare(
  repo: LocalApp,
  method: string,
  path: string,
  scope: string,
  caller = 'admin',
): Promise<Prepared> {
  const n = ++counter;
  const enc = encodeURIComponent;
  const json = (body: unknown): RequestInit => ({
    method,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  switch (`${method} ${path}`) {
    case 'POST /api/v1/uploads':
      return {
        path,
        init: json({
          name: `${scope}/new-${n}`,
          tag: 'v1',
          manifest: manifestOf(randomBytes(5000)).manifest,
        }),
      };
    case 'PUT /api/v1/uploads/{id}/chunks/{digest}': {
      const { id, chunk } = await seedUpload(repo, `${scope}/up-${n}`);
      return { path: `/api/v1/uploads/${id}/chunks/${chunk.digest}`, init: { method, body: chunk.bytes } };
    }
    case 'POST /api/v1/uploads/{id}/commit': {
      const { id } = await seedUpload(repo, `${scope}/up-${n}`);
      return { path: `/api/v1/uploads/${id}/commit`, init: json({ meta: {} }) };
    }
    case 'GET /api/v1/images/{name}/tags/{tag}':
    case 'GET /api/v1/images/{name}/tags/{tag}/content':
    case 'GET /api/v1/images/{name}/tags/{tag}/manifest':
      return { path: path.replace('{name}', enc(`${scope}/img`)).replace('{tag}', 'v1'), init: { method } };
    case 'PUT /api/v1/images/{name}/tags/{tag}':
      return {
        path: `/api/v1/images/${enc(`${scope}/img`)}/tags/t${n}`,
        init: json({ source: { name: `${scope}/img`, tag: 'v1' } }),
      };
    case 'DELETE /api/v1/images/{name}/tags/{tag}':
      await repo
        .as(ADMIN)
        .images.tag({ name: `${scope}/img`, tag: 'v1' }, { name: `${scope}/img`, tag: `d${n}` });
      return { path: `/api/v1/images/${enc(`${scope}/img`)}/tags/d${n}`, init: { method } };
    case 'GET /api/v1/images/{name}/tags/{tag}/history':
      return { path: path.replace('{name}', enc(`${scope}/img`)).replace('{tag}', 'v1'), init: { method } };
    case 'GET /api/v1/images/{name}/tags/{tag}/files':
      await seedWimImage(repo, `${scope}/wim`);
      return {
        path: `/api/v1/images/${enc(`${scope}/wim`)}/tags/v1/files?path=%2FWindows`,
        init: { method },
      };
    case 'GET /api/v1/images/{name}/tags/{tag}/diff':
      await seedWimImage(repo, `${scope}/wim`);
      return {
        path: `/api/v1/images/${enc(`${scope}/wim`)}/tags/v1/diff?to=${enc(`${scope}/wim:v1`)}`,
        init: { method },
      };
    case 'POST /api/v1/users':
      return { path, init: json({ name: `u${n}`, role: 'viewer', scopes: [`${scope}/`] }) };
    case 'GET /api/v1/users/{name}':
    case 'DELETE /api/v1/users/{name}':
      return { path: `/api/v1/users/${await seedUser(repo, n)}`, init: { method } };
    case 'PATCH /api/v1/users/{name}':
      return { path: `/api/v1/users/${await seedUser(repo, n)}`, init: json({ disabled: true }) };
    case 'PUT /api/v1/users/{name}/password':
      return {
        path: `/api/v1/users/${caller}/password`,
        init: json({ currentPassword: PASSWORD, password: PASSWORD }),
      };
    case 'DELETE /api/v1/tokens/{id}': {
      const { record } = await issueToken(new AccountStore(repo.database), {
        userName: caller,
        name: `t${n}`,
      });
      return { path: `/api/v1/tokens/${record.id}`, init: { method } };
    }
    case 'POST /api/v1/tokens':
      return { path, init: json({ name: `t${n}` }) };
    case 'POST /api/v1/login':
      return { path, init: json({ user: 'viewer', password: PASSWORD }) };
    case 'POST /api/v1/machines':
      return { path, init: json({ name: `m${n}`, mac: macOf(n) }) };
    case 'GET /api/v1/machines/{id}':
    case 'DELETE /api/v1/machines/{id}':
      return { path: `/api/v1/machines/${await seedMachine(repo, n)}`, init: { method } };
    case 'PATCH /api/v1/machines/{id}':
      return { path: `/api/v1/machines/${await seedMachine(repo, n)}`, init: json({ labels: ['web'] }) };
    case 'POST /api/v1/machines/{id}/approve':
      return { path: `/api/v1/machines/${await seedMachine(repo, n)}/approve`, init: { method } };
    case 'GET /api/v1/machines/{id}/password':
      return {
        path: `/api/v1/machines/${(await seedDeployment(repo, n, scope)).machine}/password`,
        init: { method },
      };
    case 'POST /api/v1/profiles':
      return { path, init: json({ yaml: `name: p-${n}\nimage: ${scope}/img:v1\n`, file: 'p.yaml' }) };
    case 'PUT /api/v1/profiles/{name}': {
      const name = await seedProfile(repo, `p-${n}`, scope);
      return {
        path: `/api/v1/profiles/${name}`,
        init: json({ yaml: `name: ${name}\nimage: ${scope}/img:v2\n`, file: 'p.yaml' }),
      };
    }
    case 'GET /api/v1/profiles/{name}':
    case 'DELETE /api/v1/profiles/{name}':
      return { path: `/api/v1/profiles/${await seedProfile(repo, `p-${n}`, scope)}`, init: { method } };
    case 'POST /api/v1/deployments':
      return {
        path,
        init: json({
          machine: await seedMachine(repo, n),
          profile: await seedProfile(repo, `p-${n}`, scope),
        }),
      };
    case 'POST /api/v1/deployments/multicast':
      return {
        path,
        init: json({
          group: `group-${n}`,
          machines: [await seedMachine(repo, n)],
          profile: await seedProfile(repo, `p-${n}`, scope),
        }),
      };
    case 'GET /api/v1/deployments/{id}':
    case 'GET /api/v1/deployments/{id}/logs':
    case 'POST /api/v1/deployments/{id}/cancel':
      return { path: path.replace('{id}', (await seedDeployment(repo, n, scope)).id), init: { method } };
    case 'POST /api/v1/deployments/{id}/retry':
      return {
        path: path.replace('{id}', (await seedDeployment(repo, n, scope, 'cancelled')).id),
        init: { method },
      };
    case 'POST /api/v1/captures':
      return { path, init: json({ machine: await seedMachine(repo, n), tag: `${scope}/img:cap-${n}` }) };
    case 'POST /api/v1/builds':
      return { path, init: json({ recipe: buildRecipe(scope, n), file: `b${n}.yaml` }) };
    case 'GET /api/v1/builds/{id}':
    case 'GET /api/v1/builds/{id}/logs':
    case 'GET /api/v1/builds/{id}/serial':
    case 'POST /api/v1/builds/{id}/cancel':
      return { path: path.replace('{id}', await seedBuild(repo, n, scope)), init: { method } };
    case 'GET /api/v1/builds/{id}/screenshot':
      return { path: path.replace('{id}', await seedBuild(repo, n, scope, 'screenshot')), init: { method } };
    case 'POST /api/v1/builds/{id}/resume':
    case 'DELETE /api/v1/builds/{id}':
      return { path: path.replace('{id}', await seedBuild(repo, n, scope, 'cancelled')), init: { method } };
    case 'POST /api/v1/agent/capture/chunks':
    case 'PUT /api/v1/agent/capture/chunks/{digest}':
    case 'POST /api/v1/agent/capture/commit': {
      const token = await seedCapture(repo, n, scope);
      const headers = { authorization: `Bearer ${token}` };
      const wim = manifestOf(await capturedWim());
      const manifest = { ...wim.manifest, mediaType: 'application/x-wim' };
      const [first] = wim.chunks;
      assert.ok(first !== undefined);
      if (method === 'PUT') {
        return { path: path.replace('{digest}', first.digest), init: { method, body: first.bytes, headers } };
      }
      const jsonHeaders = { ...headers, 'content-type': 'application/json' };
      if (path.endsWith('/commit')) {
        const agent = await repo.agent(token, 'test');
        for (const c of wim.chunks) await agent.captureChunk(c.digest, c.bytes);
        return { path, init: { method, body: JSON.stringify(manifest), headers: jsonHeaders } };
      }
      const digests = wim.chunks.map((c) => c.digest);
      return { path, init: { method, body: JSON.stringify({ digests }), headers: jsonHeaders } };
    }
    case 'GET /api/v1/agent/task':
    case 'GET /api/v1/agent/manifest':
    case 'GET /api/v1/agent/unattend':
    case 'POST /api/v1/agent/report':
    case 'GET /api/v1/agent/files':
    case 'GET /api/v1/agent/multicast':
    case 'GET /api/v1/agent/files/{path}':
    case 'GET /api/v1/agent/chunks/{digest}': {
      const { token } = await seedDeployment(repo, n, scope, 'started');
      const headers = { authorization: `Bearer ${token}` };
      if (method === 'POST') {
        return {
          path,
          init: {
            method,
            body: JSON.stringify({ state: 'agent-online', log: ['hello'] }),
            headers: { ...headers, 'content-type': 'application/json' },
          },
        };
      }
      if (path.includes('{digest}')) {
        const manifest = await repo.agent(token, 'test').then((a) => a.manifest());
        return {
          path: path.replace('{digest}', manifest.chunks[0]?.digest ?? ''),
          init: { method, headers },
        };
      }
      return { path: path.replace('{path}', 'scripts%2Ffirst.cmd'), init: { method, headers } };
    }
    default:
      return { path, init: { method } };
  }
}

/** Calls the API as `token`, with a JSON body when one is given; the status and the parsed answer. */
export async function call(
  app: Fixture['app'],
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: Uint8Array | string | undefined;
  if (body instanceof Uint8Array) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await app.app.request(path, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}
