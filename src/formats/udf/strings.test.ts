import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormatError } from '../../core/errors.ts';
import { decodeCompressedUnicode, decodeDstring } from './strings.ts';

function dstring(size: number, content: readonly number[]): Uint8Array {
  const field = new Uint8Array(size);
  field.set(content);
  field[size - 1] = content.length;
  return field;
}

test('a dstring in 8-bit compressed Unicode is Latin-1 text', () => {
  assert.equal(decodeDstring(dstring(32, [8, ...Buffer.from('CCSA_X64FRE'), 0xe9]), 0), 'CCSA_X64FREé');
});

test('a dstring in 16-bit compressed Unicode is big-endian UTF-16', () => {
  const text = 'Étiquette日本';
  const be = [...Buffer.from(text, 'utf16le').swap16()];
  assert.equal(decodeDstring(dstring(128, [16, ...be]), 0), text);
});

test('an unused dstring is empty, and trailing NULs are dropped', () => {
  assert.equal(decodeDstring(new Uint8Array(32), 0), '');
  assert.equal(decodeDstring(dstring(32, [8, 0x41, 0, 0]), 0), 'A');
});

test('a dstring whose length byte is past the field, or with an unknown compression ID, is a FormatError', () => {
  const long = new Uint8Array(8);
  long[7] = 8;
  assert.throws(
    () => decodeDstring(long, 100),
    (e: unknown) => e instanceof FormatError && /0x6b/.test(e.message),
  );
  assert.throws(() => decodeDstring(dstring(8, [7, 0x41]), 0), /compression ID 7/);
  assert.throws(() => decodeCompressedUnicode(new Uint8Array([16, 0, 0x41, 0]), 0), /odd length 3/);
});
