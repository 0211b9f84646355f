import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAppError } from '../../core/errors.ts';
import { parseSize } from './sample.ts';

test('sizes are bytes, or numbers with a binary unit', () => {
  assert.equal(parseSize('1000'), 1000);
  assert.equal(parseSize('64MiB'), 64 * 1024 * 1024);
  assert.equal(parseSize('64m'), 64 * 1024 * 1024);
  assert.equal(parseSize('1.5 GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('2T'), 2 * 1024 ** 4);
});

test('anything else is an INVALID_ARGUMENT error', () => {
  for (const bad of ['', 'lots', '-5', '0', '12 parsecs', '1e3', '99999999999TiB']) {
    assert.throws(
      () => parseSize(bad),
      (e: unknown) => isAppError(e) && e.code === 'INVALID_ARGUMENT',
      bad,
    );
  }
});
