import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWimList } from './wimlib.ts';

test('winsmith-wim list output becomes entries of the unnamed stream', () => {
  const output = [
    ['/', '16', '0', ''],
    ['/sp ace ü "quoted"\ttab.txt', '128', '3', 'ce3af7760f1289d02bf6a7ad19f3214c4e5c7c2e'],
    ['/empty', '32', '0', ''],
    ['/Windows', '1040', '0', ''],
  ]
    .flat()
    .map((f) => `${f}\0`)
    .join('');
  assert.deepEqual(parseWimList(output), [
    { path: '/', size: 0, isDir: true, sha1: null },
    {
      path: '/sp ace ü "quoted"\ttab.txt',
      size: 3,
      isDir: false,
      sha1: 'ce3af7760f1289d02bf6a7ad19f3214c4e5c7c2e',
    },
    { path: '/empty', size: 0, isDir: false, sha1: null },
    { path: '/Windows', size: 0, isDir: true, sha1: null },
  ]);
});

test('empty output lists nothing', () => {
  assert.deepEqual(parseWimList(''), []);
});
