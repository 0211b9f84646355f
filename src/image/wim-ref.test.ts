import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { parseWimRef, resolveImageIndex } from './wim-ref.ts';
import type { WimEdition, WimInfo } from './wim-info.ts';

function edition(index: number, name: string): WimEdition {
  return {
    index,
    name,
    description: null,
    editionId: null,
    installationType: null,
    build: null,
    arch: null,
    languages: [],
    totalBytes: null,
    fileCount: null,
    dirCount: null,
  };
}

function info(count: number): WimInfo {
  return {
    guid: '00',
    compression: 'LZX',
    chunkSize: 32768,
    solid: false,
    parts: 1,
    bootIndex: 0,
    images: Array.from({ length: count }, (_, i) => edition(i + 1, `Edition ${i + 1}`)),
  };
}

test('FILE.wim[:INDEX] references', () => {
  assert.deepEqual(parseWimRef('install.wim'), { path: 'install.wim' });
  assert.deepEqual(parseWimRef('/media/x/install.wim:4'), { path: '/media/x/install.wim', index: 4 });
  assert.deepEqual(parseWimRef('a:b/install.wim'), { path: 'a:b/install.wim' });
  assert.throws(() => parseWimRef('install.wim:0'), /"0" in install.wim:0 is not an image index/);
  assert.throws(
    () => parseWimRef('install.wim:two'),
    (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT',
  );
});

test('the index defaults to 1 only when the WIM has one image', () => {
  assert.equal(resolveImageIndex(info(1), { path: 'x.wim' }), 1);
  assert.equal(resolveImageIndex(info(3), { path: 'x.wim', index: 3 }), 3);
  assert.throws(
    () => resolveImageIndex(info(2), { path: 'x.wim' }),
    (e: unknown) =>
      e instanceof AppError && /holds 2 images: 1 \(Edition 1\), 2 \(Edition 2\)/.test(e.message),
  );
  assert.throws(
    () => resolveImageIndex(info(2), { path: 'x.wim', index: 5 }),
    (e: unknown) =>
      e instanceof AppError && e.code === 'NOT_FOUND' && /no image 5; it holds 1/.test(e.message),
  );
});
