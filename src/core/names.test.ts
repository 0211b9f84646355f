import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from './errors.ts';
import {
  MAX_IMAGE_NAME_LENGTH,
  isValidImageName,
  isValidTag,
  nameInScope,
  normalizeMac,
  normalizeScope,
  parseImageRef,
  validateImageName,
  validateUserName,
} from './names.ts';

const invalid = (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT';

test('image names: lower-case path segments', () => {
  for (const good of ['ws2022', 'team-a/ws2022', 'a/b/c', 'x.y_z-1', '0', 'a/b.c']) {
    assert.equal(isValidImageName(good), true, good);
  }
  for (const bad of [
    '',
    '..',
    '../x',
    'a/../b',
    'a..b',
    '.hidden',
    '-x',
    '_x',
    'A',
    'a b',
    'a//b',
    '/a',
    'a/',
    'a\\b',
    'a:b',
    'a\u0000',
    'a\tb',
    'a\u007f',
    'a\u0085',
    'é',
    'a'.repeat(MAX_IMAGE_NAME_LENGTH + 1),
  ]) {
    assert.equal(isValidImageName(bad), false, JSON.stringify(bad));
    assert.throws(() => validateImageName(bad), invalid);
  }
});

test('messages quote the name with control characters escaped, on one line', () => {
  assert.throws(
    () => validateImageName('evil\nname'),
    (e: unknown) => e instanceof AppError && e.message.includes('"evil\\nname"') && !e.message.includes('\n'),
  );
});

test('tags', () => {
  for (const good of ['latest', 'v1.2.3', '2024-06', '_x', 'A'.repeat(128)])
    assert.equal(isValidTag(good), true, good);
  for (const bad of ['', '.x', '-x', 'a/b', 'a:b', 'a b', 'A'.repeat(129), 'a\u0000'])
    assert.equal(isValidTag(bad), false, bad);
});

test('references: the last colon separates the tag', () => {
  assert.deepEqual(parseImageRef('team-a/ws:v1'), { name: 'team-a/ws', tag: 'v1' });
  assert.deepEqual(parseImageRef('ws', 'latest'), { name: 'ws', tag: 'latest' });
  assert.throws(() => parseImageRef('ws'), invalid);
  assert.throws(() => parseImageRef('ws:'), invalid);
  assert.throws(() => parseImageRef(':v1'), invalid);
  assert.throws(() => parseImageRef('a:b:c'), invalid);
});

test('user names, scopes, MAC addresses', () => {
  assert.equal(validateUserName('ci_bot.1'), 'ci_bot.1');
  for (const bad of ['', 'Alice', '1abc', 'a b', 'a'.repeat(65)])
    assert.throws(() => validateUserName(bad), invalid, bad);
  assert.equal(normalizeScope('team-a'), 'team-a/');
  assert.equal(normalizeScope('team-a/x/'), 'team-a/x/');
  assert.throws(() => normalizeScope('../'), invalid);
  assert.throws(() => normalizeScope('/'), invalid);
  assert.equal(nameInScope('team-a/x', 'team-a/'), true);
  assert.equal(nameInScope('team-ab/x', 'team-a/'), false);
  assert.equal(normalizeMac('52-54-00-AB-CD-EF'), '52:54:00:ab:cd:ef');
  assert.equal(normalizeMac('525400abcdef'), '52:54:00:ab:cd:ef');
  for (const bad of ['', '52:54:00:ab:cd', '52:54:00:ab:cd:ef:01', 'zz:54:00:ab:cd:ef'])
    assert.throws(() => normalizeMac(bad), invalid, bad);
});

test('generated valid names pass; inserting "..", a control character or an upper-case letter fails', () => {
  const segment = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,11}$/);
  const name = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
  fc.assert(
    fc.property(
      name,
      fc.nat(),
      fc.constantFrom('..', '\u0000', '\n', '\u001b', 'A', '//', ' '),
      (n, at, insert) => {
        assert.equal(isValidImageName(n), true, n);
        const i = at % (n.length + 1);
        assert.equal(isValidImageName(n.slice(0, i) + insert + n.slice(i)), false);
      },
    ),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      if (isValidImageName(s)) assert.match(s, /^[a-z0-9][a-z0-9._/-]*$/);
    }),
  );
});
