// The accounts' store (users and tokens), the same on every database winsmith supports.

import assert from 'node:assert/strict';
import { AccountStore } from '../../src/auth/account-store.ts';
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

  storeTest('the last enabled admin is neither disabled, demoted nor removed', async ({ accounts }) => {
    await accounts.createUser({ name: 'root', passwordHash: 'h', role: 'admin' });
    await accounts.createUser({ name: 'idle', passwordHash: 'h', role: 'admin', disabled: true });
    await accounts.createUser({ name: 'vera', passwordHash: 'h', role: 'viewer' });
    for (const refused of [
      () => accounts.updateUser('root', { disabled: true }),
      () => accounts.updateUser('root', { role: 'builder' }),
      () => accounts.deleteUser('root'),
    ]) {
      await assert.rejects(
        refused(),
        (e: unknown) => hasCode('CONFLICT')(e) && /last enabled admin/.test(String(e)),
      );
    }
    const root = await accounts.getUser('root');
    assert.deepEqual([root?.role, root?.disabled], ['admin', false]);
    assert.equal((await accounts.updateUser('vera', { disabled: true })).disabled, true);
    assert.equal((await accounts.updateUser('idle', { role: 'viewer' })).role, 'viewer');
    await accounts.updateUser('vera', { role: 'admin', disabled: false });
    assert.equal((await accounts.updateUser('root', { disabled: true })).disabled, true);
    await assert.rejects(accounts.deleteUser('vera'), hasCode('CONFLICT'));
    await accounts.updateUser('root', { disabled: false });
    assert.equal(await accounts.deleteUser('vera'), true);
  });

  storeTest('two admins demoting each other at once: one of them stays admin', async (fixture) => {
    const { accounts } = fixture;
    await accounts.createUser({ name: 'ann', passwordHash: 'h', role: 'admin' });
    await accounts.createUser({ name: 'ben', passwordHash: 'h', role: 'admin' });
    const other = fixture.concurrentConnections ? await fixture.reopen() : null;
    try {
      const second = other === null ? accounts : new AccountStore(other);
      const results = await Promise.allSettled([
        accounts.updateUser('ann', { role: 'viewer' }),
        second.updateUser('ben', { role: 'viewer' }),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      const admins = (await accounts.listUsers()).filter((u) => u.role === 'admin');
      assert.equal(admins.length, 1);
    } finally {
      await other?.close();
    }
  });

  storeTest('a token keeps the scopes it was made with', async ({ accounts }) => {
    await accounts.createUser({ name: 'cat', passwordHash: 'h', role: 'builder' });
    const scoped = await accounts.createToken({
      name: 'ci',
      userName: 'cat',
      tokenHash: hex('5'),
      expiresAt: null,
      scopes: ['team-a/'],
    });
    const plain = await accounts.createToken({
      name: 'all',
      userName: 'cat',
      tokenHash: hex('6'),
      expiresAt: null,
    });
    assert.deepEqual(scoped.scopes, ['team-a/']);
    assert.deepEqual(plain.scopes, []);
    assert.deepEqual((await accounts.findTokenByHash(hex('5')))?.token.scopes, ['team-a/']);
  });
}
