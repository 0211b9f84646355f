// The RBAC matrix: every API route × every kind of caller, each answer's status compared with the
// table below, which docs/server.md holds too, word for word. A route without a row, or a row
// without a route, fails: a new route comes with its row (and, when its request needs something
// made first, a case in prepare, test/helpers/api-fixture.ts). Every request is about images
// under team-a/; the users of each role but admin are scoped to team-a/.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.ts';
import { generateToken, issueToken } from '../../src/auth/tokens.ts';
import { fuseAvailable } from '../../src/engines/nbd.ts';
import { ADMIN, PASSWORD, prepare, seedImage, withFixture } from '../helpers/api-fixture.ts';
import { REPO_ROOT } from '../helpers/cli.ts';

const CALLERS = [
  'none',
  'bad token',
  'expired',
  'disabled',
  'viewer',
  'operator',
  'builder',
  'admin',
  'other scope',
] as const;
type Caller = (typeof CALLERS)[number];

/**
 * The columns: no Authorization header; a well-formed token the server never issued; an admin's
 * expired token; the token of an admin since disabled; a token of each role; a builder's token
 * limited to team-b/ (its user is not scoped).
 */
export const RBAC_TABLE = `
| route | none | bad token | expired | disabled | viewer | operator | builder | admin | other scope |
|---|---|---|---|---|---|---|---|---|---|
| GET /api/health | 200 | 200 | 200 | 200 | 200 | 200 | 200 | 200 | 200 |
| GET /api/openapi.json | 200 | 200 | 200 | 200 | 200 | 200 | 200 | 200 | 200 |
| POST /api/v1/login | 200 | 200 | 200 | 200 | 200 | 200 | 200 | 200 | 200 |
| GET /api/v1/repository | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| POST /api/v1/uploads | 401 | 401 | 401 | 401 | 403 | 403 | 201 | 201 | 403 |
| PUT /api/v1/uploads/{id}/chunks/{digest} | 401 | 401 | 401 | 401 | 404 | 404 | 204 | 204 | 404 |
| POST /api/v1/uploads/{id}/commit | 401 | 401 | 401 | 401 | 404 | 404 | 201 | 201 | 404 |
| GET /api/v1/images | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| GET /api/v1/images/{name}/tags/{tag} | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 403 |
| PUT /api/v1/images/{name}/tags/{tag} | 401 | 401 | 401 | 401 | 403 | 403 | 200 | 200 | 403 |
| DELETE /api/v1/images/{name}/tags/{tag} | 401 | 401 | 401 | 401 | 403 | 403 | 204 | 204 | 403 |
| GET /api/v1/images/{name}/tags/{tag}/history | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 403 |
| GET /api/v1/images/{name}/tags/{tag}/manifest | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 403 |
| GET /api/v1/images/{name}/tags/{tag}/content | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 403 |
| GET /api/v1/images/{name}/tags/{tag}/files | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 404 |
| GET /api/v1/images/{name}/tags/{tag}/diff | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 404 |
| GET /api/v1/store/stats | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| POST /api/v1/store/check | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 200 | 403 |
| POST /api/v1/store/gc | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 200 | 403 |
| GET /api/v1/me | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| GET /api/v1/users | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 200 | 403 |
| POST /api/v1/users | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 201 | 403 |
| GET /api/v1/users/{name} | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 200 | 403 |
| PATCH /api/v1/users/{name} | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 200 | 403 |
| DELETE /api/v1/users/{name} | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 204 | 403 |
| PUT /api/v1/users/{name}/password | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| POST /api/v1/tokens | 401 | 401 | 401 | 401 | 201 | 201 | 201 | 201 | 201 |
| GET /api/v1/tokens | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| DELETE /api/v1/tokens/{id} | 401 | 401 | 401 | 401 | 204 | 204 | 204 | 204 | 204 |
| GET /api/v1/audit | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 200 | 403 |
| GET /api/v1/machines | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| POST /api/v1/machines | 401 | 401 | 401 | 401 | 403 | 201 | 403 | 201 | 403 |
| GET /api/v1/machines/{id} | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| PATCH /api/v1/machines/{id} | 401 | 401 | 401 | 401 | 403 | 200 | 403 | 200 | 403 |
| POST /api/v1/machines/{id}/approve | 401 | 401 | 401 | 401 | 403 | 200 | 403 | 200 | 403 |
| GET /api/v1/machines/{id}/password | 401 | 401 | 401 | 401 | 403 | 200 | 403 | 200 | 403 |
| DELETE /api/v1/machines/{id} | 401 | 401 | 401 | 401 | 403 | 204 | 403 | 204 | 403 |
| GET /api/v1/profiles | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| POST /api/v1/profiles | 401 | 401 | 401 | 401 | 403 | 200 | 403 | 200 | 403 |
| GET /api/v1/profiles/{name} | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| PUT /api/v1/profiles/{name} | 401 | 401 | 401 | 401 | 403 | 200 | 403 | 200 | 403 |
| DELETE /api/v1/profiles/{name} | 401 | 401 | 401 | 401 | 403 | 204 | 403 | 204 | 403 |
| GET /api/v1/deployments | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| POST /api/v1/deployments | 401 | 401 | 401 | 401 | 403 | 201 | 403 | 201 | 403 |
| POST /api/v1/captures | 401 | 401 | 401 | 401 | 403 | 403 | 403 | 201 | 403 |
| POST /api/v1/deployments/multicast | 401 | 401 | 401 | 401 | 403 | 201 | 403 | 201 | 403 |
| GET /api/v1/deployments/{id} | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 404 |
| GET /api/v1/deployments/{id}/logs | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 404 |
| POST /api/v1/deployments/{id}/cancel | 401 | 401 | 401 | 401 | 403 | 200 | 403 | 200 | 403 |
| POST /api/v1/deployments/{id}/retry | 401 | 401 | 401 | 401 | 403 | 201 | 403 | 201 | 403 |
| GET /api/v1/builds | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
| POST /api/v1/builds | 401 | 401 | 401 | 401 | 403 | 403 | 201 | 201 | 403 |
| GET /api/v1/builds/{id} | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 404 |
| GET /api/v1/builds/{id}/logs | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 404 |
| GET /api/v1/builds/{id}/serial | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 404 |
| GET /api/v1/builds/{id}/screenshot | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 404 |
| POST /api/v1/builds/{id}/cancel | 401 | 401 | 401 | 401 | 403 | 403 | 200 | 200 | 403 |
| POST /api/v1/builds/{id}/resume | 401 | 401 | 401 | 401 | 403 | 403 | 200 | 200 | 403 |
| DELETE /api/v1/builds/{id} | 401 | 401 | 401 | 401 | 403 | 403 | 204 | 204 | 403 |
| GET /api/v1/agent/task | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| POST /api/v1/agent/report | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| GET /api/v1/agent/multicast | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| GET /api/v1/agent/manifest | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| GET /api/v1/agent/chunks/{digest} | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| GET /api/v1/agent/unattend | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| GET /api/v1/agent/files | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| GET /api/v1/agent/files/{path} | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| POST /api/v1/agent/capture/chunks | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| PUT /api/v1/agent/capture/chunks/{digest} | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| POST /api/v1/agent/capture/commit | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| GET /metrics | 403 | 401 | 401 | 401 | 401 | 401 | 401 | 401 | 401 |
| GET /api/v1/events | 401 | 401 | 401 | 401 | 200 | 200 | 200 | 200 | 200 |
`;

/**
 * The routes that look inside images (through FUSE): where FUSE is not available they answer 503
 * UNAVAILABLE to a caller that passed the role and scope checks, which the table counts as 200.
 */
const INSIDE_IMAGES = new Set([
  'GET /api/v1/images/{name}/tags/{tag}/files',
  'GET /api/v1/images/{name}/tags/{tag}/diff',
]);
const FUSE = await fuseAvailable();

function parseTable(text: string): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  for (const line of text.trim().split('\n').slice(2)) {
    const [route = '', ...cells] = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    assert.equal(cells.length, CALLERS.length, `the row of ${route} has ${cells.length} statuses`);
    assert.ok(!rows.has(route), `${route} has two rows`);
    rows.set(
      route,
      cells.map((c) => Number(c)),
    );
  }
  return rows;
}

test(
  'RBAC matrix: every route × every kind of caller answers as the table says',
  { timeout: 300_000 },
  async () => {
    const expected = parseTable(RBAC_TABLE);
    await withFixture(async ({ repo, app, tokens, expired }) => {
      await seedImage(repo, 'team-a/img', 'v1');
      const store = new AccountStore(repo.database);
      const setup = repo.as(ADMIN).accounts;
      await setup.addUser({ name: 'off', role: 'admin', scopes: [], password: PASSWORD });
      const disabled = (await issueToken(store, { userName: 'off', name: 'test' })).token;
      await setup.changeUser('off', { disabled: true });
      await setup.addUser({ name: 'ci', role: 'builder', scopes: [], password: PASSWORD });
      const otherScope = (await issueToken(store, { userName: 'ci', name: 'test', scopes: ['team-b/'] }))
        .token;
      const credentials: Record<Caller, { token: string | null; user: string }> = {
        none: { token: null, user: 'viewer' },
        'bad token': { token: generateToken().token, user: 'viewer' },
        expired: { token: expired, user: 'admin' },
        disabled: { token: disabled, user: 'off' },
        viewer: { token: tokens.viewer, user: 'viewer' },
        operator: { token: tokens.operator, user: 'operator' },
        builder: { token: tokens.builder, user: 'builder' },
        admin: { token: tokens.admin, user: 'admin' },
        'other scope': { token: otherScope, user: 'ci' },
      };
      const found: string[] = [];
      const mismatches: string[] = [];
      for (const route of app.routes) {
        const key = `${route.method} ${route.path}`;
        const statuses: number[] = [];
        for (const caller of CALLERS) {
          const { token, user } = credentials[caller];
          const { path, init } = await prepare(repo, route.method, route.path, 'team-a', user);
          const headers = new Headers(init?.headers);
          if (token === null) headers.delete('authorization');
          else headers.set('authorization', `Bearer ${token}`);
          const controller = new AbortController();
          const response = await app.app.request(path, { ...init, headers, signal: controller.signal });
          await response.body?.cancel();
          controller.abort();
          statuses.push(!FUSE && INSIDE_IMAGES.has(key) && response.status === 503 ? 200 : response.status);
        }
        found.push(`| ${key} | ${statuses.join(' | ')} |`);
        const row = expected.get(key);
        if (row === undefined) mismatches.push(`${key} has no row`);
        else if (row.join() !== statuses.join())
          mismatches.push(`${key}: ${statuses.join(' ')}, the table says ${row.join(' ')}`);
      }
      const served = new Set(app.routes.map((r) => `${r.method} ${r.path}`));
      for (const key of expected.keys())
        if (!served.has(key)) mismatches.push(`${key} has a row but is not served`);
      assert.deepEqual(mismatches, [], `the answers:\n${found.join('\n')}`);
    });
  },
);

test('docs/server.md holds the RBAC table of this test', async () => {
  const doc = await readFile(join(REPO_ROOT, 'docs', 'server.md'), 'utf8');
  assert.ok(
    doc.includes(RBAC_TABLE.trim()),
    'copy RBAC_TABLE of test/server/rbac-matrix.test.ts into docs/server.md',
  );
});
