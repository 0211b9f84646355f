// The routes the console's administration and profile editor use beyond the CLI's: the audit log
// narrowed by actor, action and time a page at a time, and a profile edited as the server shows it
// (passwords masked) without its stored password ever being sent back.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.ts';
import { loadSecretBox } from '../../src/auth/secret-box.ts';
import { issueToken } from '../../src/auth/tokens.ts';
import { DeploymentStore } from '../../src/deploy/deployment-store.ts';
import { SECRETS_KEY_FILE } from '../../src/app/local-app.ts';
import { PASSWORD, call, seedImage, withFixture, type Fixture } from '../helpers/api-fixture.ts';

const ADMIN_PASSWORD = 'St0red-admin-pass';
const JOIN_PASSWORD = 'J0in-pass';

/** The profile's YAML as stored, opened with the data directory's key. */
async function storedYaml(f: Fixture, name: string): Promise<string> {
  const stored = await new DeploymentStore(f.repo.database).getProfile(name);
  assert.ok(stored !== undefined, `profile ${name} is stored`);
  const box = await loadSecretBox({ file: join(f.dataDir, SECRETS_KEY_FILE) });
  return box.open(stored.sealed, `profile:${name}`);
}

test('GET /api/v1/audit narrows by actor, action and time, and pages with next', async () => {
  await withFixture(async ({ app, tokens }) => {
    const start = new Date().toISOString();
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await call(app, tokens.admin, 'POST', '/api/v1/users', { name: `a${i}`, role: 'viewer' })).status,
        201,
      );
    }
    assert.equal((await call(app, tokens.viewer, 'POST', '/api/v1/tokens', { name: 'mine' })).status, 201);

    const added = await call(app, tokens.admin, 'GET', `/api/v1/audit?action=user.add&since=${start}`);
    assert.equal(added.status, 200);
    const entries = added.json.entries as { id: number; target: string; actor: string }[];
    assert.deepEqual(
      entries.map((e) => e.target),
      ['a2', 'a1', 'a0'],
    );
    assert.equal(added.json.next, null);

    const mine = await call(app, tokens.admin, 'GET', `/api/v1/audit?actor=viewer&since=${start}`);
    assert.deepEqual(
      (mine.json.entries as { action: string }[]).map((e) => e.action),
      ['token.create'],
    );

    const first = await call(
      app,
      tokens.admin,
      'GET',
      `/api/v1/audit?action=user.add&since=${start}&limit=2`,
    );
    assert.deepEqual(
      (first.json.entries as { target: string }[]).map((e) => e.target),
      ['a2', 'a1'],
    );
    assert.equal(typeof first.json.next, 'number');
    const second = await call(
      app,
      tokens.admin,
      'GET',
      `/api/v1/audit?action=user.add&since=${start}&limit=2&before=${String(first.json.next)}`,
    );
    assert.deepEqual(
      (second.json.entries as { target: string }[]).map((e) => e.target),
      ['a0'],
    );
    assert.equal(second.json.next, null);

    const before = await call(app, tokens.admin, 'GET', `/api/v1/audit?until=${start}&action=user.add`);
    assert.ok(!(before.json.entries as { target: string }[]).some((e) => /^a\d$/.test(e.target)));

    const bad = await call(app, tokens.admin, 'GET', '/api/v1/audit?since=yesterday');
    assert.equal(bad.status, 400);
    assert.match((bad.json.error as { message: string }).message, /since/);
    assert.equal((await call(app, tokens.operator, 'GET', '/api/v1/audit?actor=admin')).status, 403);
  });
});

test('a token made with an API token expires by its expiry; a login session makes any', async () => {
  await withFixture(async ({ repo, app }) => {
    const accounts = new AccountStore(repo.database);
    const hour = await issueToken(accounts, {
      userName: 'operator',
      name: 'for an hour',
      lifetimeSeconds: 3600,
    });
    const parentExpiry = hour.record.expiresAt ?? '';
    for (const body of [
      { name: 'longer', expiresInDays: 30 },
      { name: 'a day', expiresInDays: 1 },
    ]) {
      const refused = await call(app, hour.token, 'POST', '/api/v1/tokens', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.match(
        (refused.json.error as { message: string }).message,
        new RegExp(`after the token it is made with \\(${parentExpiry}\\)`),
      );
    }
    const shorter = await call(app, hour.token, 'POST', '/api/v1/tokens', {
      name: 'shorter',
      expiresInDays: 1 / 48,
    });
    assert.equal(shorter.status, 201);
    assert.ok(String(shorter.json.expiresAt) <= parentExpiry);
    // No lifetime asked for: the default (90 days), cut short to the hour's end.
    const unasked = await call(app, hour.token, 'POST', '/api/v1/tokens', { name: 'default' });
    assert.equal(unasked.status, 201);
    assert.equal(unasked.json.expiresAt, parentExpiry);
    // A session opened with the password (a login token, whatever its expiry) is not bound.
    const login = await app.app.request('/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'operator', password: PASSWORD }),
    });
    assert.equal(login.status, 200);
    const session = ((await login.json()) as { token: string }).token;
    const year = await call(app, session, 'POST', '/api/v1/tokens', { name: 'ci', expiresInDays: 366 });
    assert.equal(year.status, 201);
    const listed = await call(app, session, 'GET', '/api/v1/tokens');
    const kinds = Object.fromEntries(
      (listed.json.tokens as { name: string; kind: string }[]).map((t) => [t.name, t.kind]),
    );
    assert.equal(kinds['ci'], 'api');
    assert.equal(kinds['shorter'], 'api');
    assert.equal(Object.entries(kinds).find(([name]) => name.startsWith('login from'))?.[1], 'login');
  });
});

test('PUT /api/v1/profiles/NAME keeps the stored passwords the edit leaves masked', async () => {
  await withFixture(async (f) => {
    const { app, tokens, repo } = f;
    await seedImage(repo, 'team-a/img', 'v1');
    const yaml = [
      'name: web',
      'image: team-a/img:v1',
      `adminPassword: ${JSON.stringify(ADMIN_PASSWORD)}`,
      'unattend:',
      `  domainJoin: { domain: corp.example, username: joiner, password: ${JSON.stringify(JOIN_PASSWORD)} }`,
      '',
    ].join('\n');
    assert.equal((await call(app, tokens.operator, 'POST', '/api/v1/profiles', { yaml })).status, 200);

    const shown = await call(app, tokens.operator, 'GET', '/api/v1/profiles/web');
    const masked = shown.json.yaml as string;
    assert.ok(!masked.includes(ADMIN_PASSWORD) && !masked.includes(JOIN_PASSWORD), masked);

    // A mistake: the error names the edit's line and column, and quotes no stored password.
    const wrong = masked.replace('image: team-a/img:v1', 'image: team-a/img:v1\nedition: zero');
    const refused = await call(app, tokens.operator, 'PUT', '/api/v1/profiles/web', { yaml: wrong });
    assert.equal(refused.status, 422);
    const error = refused.json.error as { code: string; message: string };
    assert.equal(error.code, 'FORMAT_INVALID');
    assert.match(error.message, /^web\.yaml:3:10: edition must be/);
    assert.ok(!JSON.stringify(refused.json).includes(ADMIN_PASSWORD));

    // Saved with the masks left: the stored passwords are kept, the change is made.
    const edited = masked.replace('image: team-a/img:v1', 'image: team-a/img:v1\nfinish: poweroff');
    const saved = await call(app, tokens.operator, 'PUT', '/api/v1/profiles/web', {
      yaml: edited,
      file: 'web (console)',
    });
    assert.equal(saved.status, 200, JSON.stringify(saved.json));
    assert.equal((saved.json.summary as { finish: string }).finish, 'poweroff');
    assert.equal((saved.json.summary as { adminPassword: string }).adminPassword, 'given');
    assert.ok(!JSON.stringify(saved.json).includes(ADMIN_PASSWORD));
    const stored = await storedYaml(f, 'web');
    assert.match(stored, /finish: poweroff/);
    assert.ok(
      stored.includes(JSON.stringify(ADMIN_PASSWORD)) && stored.includes(JSON.stringify(JOIN_PASSWORD)),
    );
    assert.equal((await call(app, tokens.operator, 'GET', '/api/v1/profiles/web')).json.yaml, edited);

    // POST keeps a masked password the same way, as `winsmith profile apply` of a shown profile.
    assert.equal(
      (await call(app, tokens.operator, 'POST', '/api/v1/profiles', { yaml: edited })).status,
      200,
    );
    assert.ok((await storedYaml(f, 'web')).includes(JSON.stringify(ADMIN_PASSWORD)));

    // A YAML naming another profile is not an edit of this one; a mask with nothing stored is refused.
    const renamed = await call(app, tokens.operator, 'PUT', '/api/v1/profiles/web', {
      yaml: edited.replace('name: web', 'name: other'),
    });
    assert.equal(renamed.status, 400);
    assert.match((renamed.json.error as { message: string }).message, /names profile other.*edited is web/);
    const fresh = await call(app, tokens.operator, 'PUT', '/api/v1/profiles/new', {
      yaml: edited.replace('name: web', 'name: new'),
    });
    assert.equal(fresh.status, 422);
    assert.match(
      (fresh.json.error as { message: string }).message,
      /^new\.yaml:4:16: adminPassword is \*{8}, which keeps the stored password/,
    );
    assert.equal(
      (await call(app, tokens.viewer, 'PUT', '/api/v1/profiles/web', { yaml: edited })).status,
      403,
    );
    assert.ok((await storedYaml(f, 'web')).includes(JSON.stringify(ADMIN_PASSWORD)));
  });
});
