// Users, first admin, password login and tokens over a real account store (in-memory SQLite).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.ts';
import { authenticatePassword } from '../../src/auth/login.ts';
import type { Argon2Params } from '../../src/auth/passwords.ts';
import { LoginRateLimiter } from '../../src/auth/rate-limit.ts';
import {
  authenticateToken,
  generateToken,
  hashToken,
  issueToken,
  looksLikeToken,
} from '../../src/auth/tokens.ts';
import { addUser, createFirstAdmin, editUser, setPassword } from '../../src/auth/users.ts';
import { AppError } from '../../src/core/errors.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';

const CHEAP: Argon2Params = { memoryKiB: 64, passes: 1, parallelism: 1 };
const code = (c: string) => (e: unknown) => e instanceof AppError && e.code === c;

let database: Database;
let accounts: AccountStore;
before(async () => {
  database = await openDatabase({ kind: 'sqlite', path: ':memory:' });
  accounts = new AccountStore(database);
});
after(async () => {
  await database.close();
});

test('the first admin is created once, with a generated password that logs in', async () => {
  const first = await createFirstAdmin(accounts, { argon2: CHEAP });
  assert.ok(first);
  assert.equal(first.user.role, 'admin');
  assert.match(first.password, /^[A-Za-z0-9_-]{24}$/);
  assert.equal(first.user.passwordHash.includes(first.password), false);
  assert.equal(await createFirstAdmin(accounts, { argon2: CHEAP }), undefined);
  const limiter = new LoginRateLimiter();
  const principal = await authenticatePassword(accounts, limiter, {
    name: 'admin',
    password: first.password,
    client: 'local',
  });
  assert.deepEqual(principal, { name: 'admin', role: 'admin', scopes: [], disabled: false });
});

test('addUser normalizes scopes, refuses scoped admins and short passwords', async () => {
  const { user, generated } = await addUser(accounts, {
    name: 'builder1',
    role: 'builder',
    scopes: ['team-a', 'team-a/', 'team-b/x/'],
    password: 'long enough password',
    argon2: CHEAP,
  });
  assert.equal(generated, false);
  assert.deepEqual(user.scopes, ['team-a/', 'team-b/x/']);
  await assert.rejects(
    addUser(accounts, { name: 'root2', role: 'admin', scopes: ['a/'], argon2: CHEAP }),
    code('INVALID_ARGUMENT'),
  );
  await assert.rejects(
    addUser(accounts, { name: 'short', role: 'viewer', password: 'short', argon2: CHEAP }),
    code('INVALID_ARGUMENT'),
  );
  await assert.rejects(
    addUser(accounts, { name: 'v', role: 'viewer', scopes: ['../x'], argon2: CHEAP }),
    code('INVALID_ARGUMENT'),
  );
  await assert.rejects(
    addUser(accounts, { name: 'builder1', role: 'viewer', argon2: CHEAP }),
    code('ALREADY_EXISTS'),
  );
});

test('login: wrong password, unknown user and disabled user fail alike, then the limiter steps in', async () => {
  await addUser(accounts, { name: 'carol', role: 'viewer', password: 'carols password', argon2: CHEAP });
  const limiter = new LoginRateLimiter({ maxPerUserClient: 3, maxPerClient: 100 });
  const attempt = (name: string, password: string) =>
    authenticatePassword(accounts, limiter, { name, password, client: '198.51.100.1' });
  const failures: string[] = [];
  for (const [name, password] of [
    ['carol', 'wrong password!'],
    ['nobody', 'carols password'],
  ] as const) {
    await assert.rejects(attempt(name, password), (e: unknown) => {
      assert.ok(e instanceof AppError && e.code === 'UNAUTHORIZED');
      failures.push(e.message);
      return true;
    });
  }
  await accounts.updateUser('carol', { disabled: true });
  await assert.rejects(attempt('carol', 'carols password'), (e: unknown) => {
    assert.ok(e instanceof AppError && e.code === 'UNAUTHORIZED');
    failures.push(e.message);
    return true;
  });
  assert.equal(new Set(failures).size, 1, 'one message for every reason');
  await accounts.updateUser('carol', { disabled: false });
  await assert.rejects(attempt('carol', 'still wrong!'), code('UNAUTHORIZED'));
  await assert.rejects(
    attempt('carol', 'carols password'),
    code('RATE_LIMITED'),
    'the third failure of carol',
  );
  const fresh = new LoginRateLimiter();
  assert.equal(
    (await authenticatePassword(accounts, fresh, { name: 'carol', password: 'carols password', client: 'x' }))
      .name,
    'carol',
  );
});

test('tokens: shown once, stored hashed, authenticate until expired or revoked', async () => {
  await addUser(accounts, {
    name: 'ci',
    role: 'builder',
    scopes: ['ci/'],
    password: 'ci password 123',
    argon2: CHEAP,
  });
  const now = new Date('2026-03-01T00:00:00.000Z');
  const { token, record } = await issueToken(accounts, {
    userName: 'ci',
    name: 'runner',
    lifetimeSeconds: 3600,
    now,
  });
  assert.ok(looksLikeToken(token));
  assert.equal(record.expiresAt, '2026-03-01T01:00:00.000Z');
  const stored = await accounts.findTokenByHash(hashToken(token));
  assert.equal(stored?.token.id, record.id);
  const { principal } = await authenticateToken(accounts, token, new Date('2026-03-01T00:30:00.000Z'));
  // An API token's holder carries its expiry (tokens it makes expire by then); a login session's does not.
  assert.equal(record.kind, 'api');
  assert.deepEqual(principal, {
    name: 'ci',
    role: 'builder',
    scopes: ['ci/'],
    disabled: false,
    tokenExpiresAt: '2026-03-01T01:00:00.000Z',
  });
  assert.equal((await accounts.getToken(record.id))?.lastUsedAt, '2026-03-01T00:30:00.000Z');
  const session = await issueToken(accounts, { userName: 'ci', name: 'login', kind: 'login', now });
  assert.equal(session.record.kind, 'login');
  const opened = await authenticateToken(accounts, session.token, new Date('2026-03-01T00:30:00.000Z'));
  assert.deepEqual(opened.principal, { name: 'ci', role: 'builder', scopes: ['ci/'], disabled: false });

  await assert.rejects(
    authenticateToken(accounts, token, new Date('2026-03-01T01:00:00.000Z')),
    code('UNAUTHORIZED'),
  );
  await assert.rejects(authenticateToken(accounts, generateToken().token, now), code('UNAUTHORIZED'));
  await assert.rejects(authenticateToken(accounts, 'not a token', now), code('UNAUTHORIZED'));
  // One character changed (to one it is not: a token may end in A).
  const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  await assert.rejects(authenticateToken(accounts, altered, now), code('UNAUTHORIZED'));
  await accounts.updateUser('ci', { disabled: true });
  await assert.rejects(authenticateToken(accounts, token, now), code('UNAUTHORIZED'));
  await accounts.updateUser('ci', { disabled: false });
  await accounts.revokeToken(record.id);
  await assert.rejects(authenticateToken(accounts, token, now), code('UNAUTHORIZED'));

  await assert.rejects(
    issueToken(accounts, { userName: 'ci', name: 'x', lifetimeSeconds: 10 }),
    code('INVALID_ARGUMENT'),
  );
  await assert.rejects(
    issueToken(accounts, { userName: 'ci', name: 'x', lifetimeSeconds: 400 * 86400 }),
    code('INVALID_ARGUMENT'),
  );
  await assert.rejects(issueToken(accounts, { userName: 'ci', name: 'a\nb' }), code('INVALID_ARGUMENT'));
  await assert.rejects(issueToken(accounts, { userName: 'ghost', name: 'x' }), code('NOT_FOUND'));
});

test('generated tokens are distinct and their hash is the sha256 of the text', () => {
  const a = generateToken();
  const b = generateToken();
  assert.notEqual(a.token, b.token);
  assert.match(a.hash, /^[0-9a-f]{64}$/);
  assert.equal(a.hash, hashToken(a.token));
  // sha256("wsm_x"), from `printf wsm_x | sha256sum`
  assert.equal(hashToken('wsm_x'), '8ab3af617ec05a06be3909b9711b6dc28436f8b76593b625865abd83deddb2b1');
});

test("a token's scopes narrow what its user may do, and a token that would be widened stops working", async () => {
  await addUser(accounts, {
    name: 'dana',
    role: 'builder',
    scopes: ['team-a/'],
    password: 'danas password',
    argon2: CHEAP,
  });
  const narrow = await issueToken(accounts, { userName: 'dana', name: 'ci', scopes: ['team-a/ci'] });
  assert.deepEqual(narrow.record.scopes, ['team-a/ci/']);
  assert.deepEqual((await authenticateToken(accounts, narrow.token)).principal.scopes, ['team-a/ci/']);
  const plain = await issueToken(accounts, { userName: 'dana', name: 'all' });
  assert.deepEqual((await authenticateToken(accounts, plain.token)).principal.scopes, ['team-a/']);
  await assert.rejects(
    issueToken(accounts, { userName: 'dana', name: 'x', scopes: ['team-b/'] }),
    (e: unknown) =>
      e instanceof AppError && e.code === 'INVALID_ARGUMENT' && /outside the scopes of dana/.test(e.message),
  );
  await assert.rejects(
    issueToken(accounts, { userName: 'admin', name: 'x', scopes: ['a/'] }),
    code('INVALID_ARGUMENT'),
  );

  // The user's scopes move away from the token's: the token no longer works.
  await editUser(accounts, 'dana', { scopes: ['team-b/'] });
  await assert.rejects(authenticateToken(accounts, narrow.token), code('UNAUTHORIZED'));
  assert.deepEqual((await authenticateToken(accounts, plain.token)).principal.scopes, ['team-b/']);
  // An admin is never scoped: a scoped token of a user made admin is refused, not widened.
  await editUser(accounts, 'dana', { scopes: ['team-a/'] });
  assert.equal((await authenticateToken(accounts, narrow.token)).principal.name, 'dana');
  await assert.rejects(editUser(accounts, 'dana', { role: 'admin' }), code('INVALID_ARGUMENT'));
  await editUser(accounts, 'dana', { role: 'admin', scopes: [] });
  await assert.rejects(authenticateToken(accounts, narrow.token), code('UNAUTHORIZED'));
  assert.equal((await authenticateToken(accounts, plain.token)).principal.role, 'admin');
});

test('a password set is the one that logs in; a generated one is returned once', async () => {
  await addUser(accounts, { name: 'erin', role: 'viewer', password: 'erins first password', argon2: CHEAP });
  const limiter = new LoginRateLimiter();
  const login = (password: string) =>
    authenticatePassword(accounts, limiter, { name: 'erin', password, client: 'x' });
  const set = await setPassword(accounts, 'erin', { password: 'erins second password', argon2: CHEAP });
  assert.equal(set.generated, false);
  await assert.rejects(login('erins first password'), code('UNAUTHORIZED'));
  assert.equal((await login('erins second password')).name, 'erin');
  const generated = await setPassword(accounts, 'erin', { argon2: CHEAP });
  assert.equal(generated.generated, true);
  assert.equal((await login(generated.password)).name, 'erin');
  await assert.rejects(
    setPassword(accounts, 'erin', { password: 'short', argon2: CHEAP }),
    code('INVALID_ARGUMENT'),
  );
  await assert.rejects(setPassword(accounts, 'nobody', { argon2: CHEAP }), code('NOT_FOUND'));
});
