import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_ARGON2,
  MAX_PASSWORD_BYTES,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
  type Argon2Params,
} from './passwords.ts';

const CHEAP: Argon2Params = { memoryKiB: 64, passes: 1, parallelism: 1 };

test('a hash is a PHC argon2id string that verifies the password and nothing else', async () => {
  const phc = await hashPassword('correct horse battery staple');
  assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.deepEqual(parsePasswordHash(phc)?.params, DEFAULT_ARGON2);
  assert.equal(await verifyPassword('correct horse battery staple', phc), true);
  assert.equal(await verifyPassword('correct horse battery stapl', phc), false);
  assert.equal(await verifyPassword('Correct horse battery staple', phc), false);
  assert.equal(await verifyPassword('', phc), false);
});

test('each hash has its own salt', async () => {
  const a = await hashPassword('same password!', CHEAP);
  const b = await hashPassword('same password!', CHEAP);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword('same password!', a), true);
  assert.equal(await verifyPassword('same password!', b), true);
});

test('the stored parameters are used: a hash made with other parameters still verifies', async () => {
  const phc = await hashPassword('pw with params', { memoryKiB: 128, passes: 3, parallelism: 2 });
  assert.match(phc, /\$m=128,t=3,p=2\$/);
  assert.equal(await verifyPassword('pw with params', phc), true);
  assert.equal(await verifyPassword('pw with params', phc.replace('t=3', 't=2')), false);
});

test('malformed, tampered or out-of-bounds stored hashes never match', async () => {
  const phc = await hashPassword('secret password', CHEAP);
  const parts = phc.split('$');
  const flipped = (parts[5] ?? '').startsWith('A')
    ? `B${(parts[5] ?? '').slice(1)}`
    : `A${(parts[5] ?? '').slice(1)}`;
  const bad = [
    '',
    'plain',
    phc.replace('argon2id', 'argon2i'),
    phc.replace('v=19', 'v=16'),
    phc.replace('m=64', 'm=99999999'),
    phc.replace('t=1', 't=0'),
    phc.replace('p=1', 'p=99'),
    [...parts.slice(0, 5), flipped].join('$'),
    [...parts.slice(0, 4), '!!', parts[5]].join('$'),
    `${phc}$extra`,
  ];
  for (const stored of bad) {
    assert.equal(await verifyPassword('secret password', stored), false, stored);
  }
});

test('over-long passwords are refused, not hashed', async () => {
  await assert.rejects(hashPassword('x'.repeat(MAX_PASSWORD_BYTES + 1), CHEAP), RangeError);
  const phc = await hashPassword('x'.repeat(MAX_PASSWORD_BYTES), CHEAP);
  assert.equal(await verifyPassword('x'.repeat(MAX_PASSWORD_BYTES), phc), true);
  assert.equal(await verifyPassword('x'.repeat(MAX_PASSWORD_BYTES + 1), phc), false);
});

test('any password verifies against its own hash and not against a changed one', async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 64, unit: 'grapheme' }), async (password) => {
      const phc = await hashPassword(password, CHEAP);
      assert.equal(await verifyPassword(password, phc), true);
      assert.equal(await verifyPassword(`${password}.`, phc), false);
    }),
    { numRuns: 40 },
  );
});
