// GET /api/v1/me: the caller as the server knows it, the role's actions from src/auth/roles.ts (the
// console shows the buttons of these), its scopes those it acts within.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROLE_ACTIONS, ROLES } from '../../src/auth/roles.ts';
import { call, withFixture } from '../helpers/api-fixture.ts';

test('GET /api/v1/me names the caller, its role, scopes and the actions the role allows', async () => {
  await withFixture(async ({ app, tokens }) => {
    for (const role of ROLES) {
      const { status, json } = await call(app, tokens[role], 'GET', '/api/v1/me');
      assert.equal(status, 200, role);
      assert.equal(json.role, role);
      assert.equal(typeof json.name, 'string');
      assert.deepEqual(new Set(json.actions as string[]), ROLE_ACTIONS[role], role);
    }
    const viewer = await call(app, tokens.viewer, 'GET', '/api/v1/me');
    assert.deepEqual(viewer.json.scopes, ['team-a/']);
    assert.ok(!(viewer.json.actions as string[]).includes('deploy.run'));
  });
});
