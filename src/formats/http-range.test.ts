import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { contentRange, parseRangeHeader } from './http-range.ts';

test('single byte ranges: first-last, first-, -suffix, cut to the end', () => {
  assert.equal(parseRangeHeader(undefined, 10), null);
  assert.deepEqual(parseRangeHeader('bytes=0-3', 10), { start: 0, end: 3 });
  assert.deepEqual(parseRangeHeader('bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRangeHeader('bytes=-4', 10), { start: 6, end: 9 });
  assert.deepEqual(parseRangeHeader('bytes=8-100', 10), { start: 8, end: 9 });
  assert.deepEqual(parseRangeHeader('bytes=-100', 10), { start: 0, end: 9 });
  assert.deepEqual(parseRangeHeader(' Bytes = 1-2 ', 10), { start: 1, end: 2 });
});

test('unsatisfiable: past the end, inverted, zero suffix, several ranges, bad syntax, empty content', () => {
  for (const header of [
    'bytes=10-',
    'bytes=5-2',
    'bytes=-0',
    'bytes=0-1,3-4',
    'bytes=0-1, 0-1',
    'bytes=-',
    'bytes=a-b',
    'bytes=99999999999999999999-',
  ]) {
    assert.equal(parseRangeHeader(header, 10), 'unsatisfiable', header);
  }
  assert.equal(parseRangeHeader('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRangeHeader('bytes=-1', 0), 'unsatisfiable');
});

test('another unit is ignored: the whole content', () => {
  assert.equal(parseRangeHeader('items=0-1', 10), null);
});

test('any header gives null, unsatisfiable, or a range within the size', () => {
  fc.assert(
    fc.property(fc.string(), fc.nat({ max: 1 << 20 }), (header, size) => {
      const r = parseRangeHeader(`bytes=${header}`, size);
      if (r === null || r === 'unsatisfiable') return;
      assert.ok(r.start >= 0 && r.start <= r.end && r.end < size);
    }),
  );
});

test('Content-Range for 206 and 416', () => {
  assert.equal(contentRange({ start: 0, end: 3 }, 10), 'bytes 0-3/10');
  assert.equal(contentRange(null, 10), 'bytes */10');
});
