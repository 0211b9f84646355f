import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barText, cutMiddle, progressLine } from './progress-bar.ts';

const GiB = 1024 ** 3;

test('at 80 columns the percentage and byte counts stay whole; a long label is cut from the middle', () => {
  const e = {
    phase: 'Downloading from https://images.build-farm.example.internal:8443/api/v1/images/team-a',
    done: 1.2 * GiB,
    total: 2.5 * GiB,
    unit: 'bytes' as const,
  };
  const line = progressLine(e, 80);
  assert.ok(line.length <= 79, `${line.length}: ${line}`);
  assert.ok(line.endsWith(' 48% 1.2 GiB / 2.5 GiB'), line);
  assert.ok(line.startsWith('Downloading fro…') && line.includes('team-a ['), line);
  assert.ok(line.includes('…'), line);
  assert.match(line, /\[#+-+\]/);
});

test('a short label is kept whole with a 30-column bar; every width fits, down to a narrow terminal', () => {
  const e = { phase: 'Applying', done: 5, total: 10, unit: 'items' as const };
  assert.equal(progressLine(e, 80), `Applying ${barText(e, 30)}`);
  for (let columns = 1; columns <= 200; columns++) {
    const line = progressLine({ ...e, phase: 'Uploading to http://repo.example:8080 '.repeat(3) }, columns);
    assert.ok(line.length <= Math.max(1, columns - 1), `${columns}: ${line}`);
    if (columns >= 24) assert.ok(line.endsWith(' 50% 5 / 10'), `${columns}: ${line}`);
  }
});

test('cutMiddle keeps both ends', () => {
  assert.equal(cutMiddle('abcdefghij', 10), 'abcdefghij');
  assert.equal(cutMiddle('abcdefghij', 5), 'ab…ij');
  assert.equal(cutMiddle('abcdefghij', 6), 'abc…ij');
  assert.equal(cutMiddle('abcdefghij', 1), '…');
  assert.equal(cutMiddle('abcdefghij', 0), '');
});
