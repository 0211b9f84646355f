// The accounts' store (users and tokens), the same on every database winsmith supports.

import assert from 'node:assert/strict';
import { hasCode, hex, type StoreTest } from '../db/store-fixture.ts';

export function accountStoreContract(storeTest: StoreTest): void {
  storeTest('users: create, duplicate, change, disable, delete with their tokens', async ({ accounts }) => {
    assert.equal(await accounts.countUsers(), 0);
    const alice = await accounts.createUser({
      name: 'alice',
      passwordHash: '$argon2id$x',
      role: 'builder',
      scopes: ['team-a/'],
    });
    assert.deepEqual([alice.role, alice.scopes, alice.disabled], ['builder', ['team-a/'], false]);
    await assert.rejects(
      accounts.createUser({ name: 'alice', passwordHash: 'y', role: 'admin' }),
      hasCode('ALREADY_EXISTS'),
    );
    await assert.rejects(
      accounts.createUser({ name: 'Bad Name', passwordHash: 'y', role: 'admin' }),
      hasCode('INVALID_ARGUMENT'),
    );
    const changed = await accounts.updateUser('alice', { role: 'viewer', scopes: [], disabled: true });
    assert.deepEqual(
      [changed.role, changed.scopes, changed.disabled, changed.passwordHash],
      ['viewer', [], true, '$argon2id$x'],
    );
    await assert.rejects(accounts.updateUser('bob', { disabled: true }), hasCode('NOT_FOUND'));
    await accounts.createToken({ name: 'ci', userName: 'alice', tokenHash: hex('1'), expiresAt: null });
    assert.equal(await accounts.countUsers(), 1);
    assert.equal(await accounts.deleteUser('alice'), true);
    assert.equal(await accounts.findTokenByHash(hex('1')), undefined);
    assert.deepEqual(await accounts.listTokens(), []);
    assert.equal(await accounts.deleteUser('alice'), false);
  });

  storeTest('tokens: found by hash, used, revoked', async ({ accounts }) => {
    await accounts.createUser({ name: 'bob', passwordHash: 'h', role: 'operator' });
    const token = await accounts.createToken({
      name: 'laptop',
      userName: 'bob',
      tokenHash: hex('2'),
      expiresAt: '2027-01-01T00:00:00.000Z',
      now: '2026-01-01T00:00:00.000Z',
    });
    const found = await accounts.findTokenByHash(hex('2'));
    assert.deepEqual(found?.token, token);
    assert.equal(found.user.role, 'operator');
    assert.equal(await accounts.findTokenByHash(hex('3')), undefined);
    await accounts.touchToken(token.id, '2026-02-01T00:00:00.000Z');
    assert.equal((await accounts.getToken(token.id))?.lastUsedAt, '2026-02-01T00:00:00.000Z');
    assert.equal(await accounts.revokeToken(token.id), true);
    assert.equal(await accounts.revokeToken(token.id), false);
    assert.notEqual((await accounts.listTokens('bob'))[0]?.revokedAt, null);
    await assert.rejects(
      accounts.createToken({ name: 'x', userName: 'nobody', tokenHash: hex('4'), expiresAt: null }),
    );
  });
}
