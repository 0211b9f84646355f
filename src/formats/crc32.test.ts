import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { crc32 } from './crc32.ts';

test('crc32 gives the check value of the CRC-32/ISO-HDLC catalogue entry', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('crc32 agrees with zlib on any bytes, and continues across chunks', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
      assert.equal(crc32(a), zlibCrc32(a));
      const joined = new Uint8Array([...a, ...b]);
      assert.equal(crc32(b, crc32(a)), crc32(joined));
    }),
  );
});
