import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ACTIONS,
  IMAGE_ACTIONS,
  ROLES,
  authorize,
  inScope,
  narrowScopes,
  type Action,
  type Principal,
  type Role,
} from './roles.ts';

// The expected table, written out here independently of roles.ts.
const EXPECTED: Record<Role, readonly Action[]> = {
  admin: ACTIONS,
  builder: [
    'image.read',
    'image.push',
    'image.tag',
    'image.remove',
    'image.import',
    'image.build',
    'image.customize',
    'machines.read',
    'store.read',
    'tokens.own',
    'password.own',
  ],
  operator: [
    'image.read',
    'deploy.run',
    'profiles.write',
    'secrets.read',
    'machines.read',
    'machines.write',
    'store.read',
    'tokens.own',
    'password.own',
  ],
  viewer: ['image.read', 'machines.read', 'store.read', 'tokens.own', 'password.own'],
};

const who = (role: Role, scopes: string[] = []): Principal => ({ name: `u-${role}`, role, scopes });

test('every role × every action, unscoped', () => {
  for (const role of ROLES) {
    for (const action of ACTIONS) {
      assert.equal(authorize(who(role), action), EXPECTED[role].includes(action), `${role} ${action}`);
      assert.equal(
        authorize(who(role), action, 'any/name'),
        EXPECTED[role].includes(action),
        `${role} ${action} any/name`,
      );
    }
  }
});

test('scopes limit image actions to names under the prefix, at a segment boundary', () => {
  const builder = who('builder', ['team-a/']);
  for (const action of ACTIONS) {
    const allowed = EXPECTED.builder.includes(action);
    if (IMAGE_ACTIONS.has(action)) {
      assert.equal(authorize(builder, action, 'team-a/ws2022'), allowed, `${action} own scope`);
      assert.equal(authorize(builder, action, 'team-a'), allowed, `${action} the scope itself`);
      assert.equal(authorize(builder, action, 'team-b/ws2022'), false, `${action} other scope`);
      assert.equal(authorize(builder, action, 'team-ab/ws2022'), false, `${action} prefix without boundary`);
    } else {
      assert.equal(authorize(builder, action, 'team-b/ws2022'), allowed, `${action} is not an image action`);
    }
  }
  assert.equal(inScope(who('viewer', ['a/', 'b/c/']), 'b/c/d'), true);
  assert.equal(inScope(who('viewer', ['a/', 'b/c/']), 'b/d'), false);
});

test('admins are never scoped; no principal and disabled users may do nothing', () => {
  assert.equal(authorize(who('admin', ['team-a/']), 'image.push', 'team-b/x'), true);
  for (const action of ACTIONS) {
    assert.equal(authorize(undefined, action), false);
    assert.equal(authorize({ ...who('admin'), disabled: true }, action, 'x'), false);
  }
});

test("a token's scopes narrow its user's to the names both cover, and never widen them", () => {
  assert.deepEqual(narrowScopes([], []), []);
  assert.deepEqual(narrowScopes(['team-a/'], []), ['team-a/']);
  assert.deepEqual(narrowScopes([], ['team-b/']), ['team-b/']);
  assert.deepEqual(narrowScopes(['team-a/'], ['team-a/ci/']), ['team-a/ci/']);
  assert.deepEqual(narrowScopes(['team-a/ci/'], ['team-a/']), ['team-a/ci/']);
  assert.deepEqual(narrowScopes(['team-a/', 'team-b/'], ['team-b/x/', 'team-c/']), ['team-b/x/']);
  assert.equal(narrowScopes(['team-a/'], ['team-ab/']), null);
  assert.equal(narrowScopes(['team-a/'], ['team-b/']), null);
});
