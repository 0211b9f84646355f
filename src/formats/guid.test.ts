import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../core/errors.ts';
import { decodeGuid, encodeGuid, guidFromRandom, normalizeGuid } from './guid.ts';

test('encodeGuid stores the first three fields little-endian (the ESP type GUID as on disk)', () => {
  const bytes = encodeGuid('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  assert.equal(Buffer.from(bytes).toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
  assert.equal(decodeGuid(bytes), 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
});

test('normalizeGuid accepts braces and upper case, refuses anything else', () => {
  assert.equal(
    normalizeGuid('{9DEA862C-5CDD-4E70-ACC1-F32B344D4795}'),
    '9dea862c-5cdd-4e70-acc1-f32b344d4795',
  );
  assert.throws(() => normalizeGuid('9dea862c-5cdd-4e70-acc1'), FormatError);
  assert.throws(() => decodeGuid(new Uint8Array(10)), FormatError);
});

test('decodeGuid(encodeGuid(g)) is g, and random GUIDs are version 4', () => {
  fc.assert(
    fc.property(fc.uuid(), (g) => {
      assert.equal(decodeGuid(encodeGuid(g)), g.toLowerCase());
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (r) => {
      const g = guidFromRandom(r);
      assert.match(g, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }),
  );
});
