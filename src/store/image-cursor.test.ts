import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_IMAGE_NAME_LENGTH, MAX_TAG_LENGTH } from '../core/names.ts';
import { encodePageCursor } from '../db/rows.ts';
import { decodeImageCursor } from './image-catalog.ts';

test('an images page cursor names any image back, the longest names too; anything else is refused', () => {
  const longest = { name: `a/${'n'.repeat(MAX_IMAGE_NAME_LENGTH - 2)}`, tag: 't'.repeat(MAX_TAG_LENGTH) };
  for (const ref of [{ name: 'team-a/ws2022', tag: 'v1' }, longest]) {
    assert.deepEqual(decodeImageCursor(encodePageCursor([ref.name, ref.tag])), ref);
  }
  for (const bad of ['', '!!', encodePageCursor(['..', 'x']), encodePageCursor(['a']), 'x'.repeat(700)]) {
    assert.throws(() => decodeImageCursor(bad), /is not one this server gave/);
  }
});
