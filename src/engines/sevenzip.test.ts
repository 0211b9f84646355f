import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSevenZipPercent } from './sevenzip.ts';

test('the last percentage of a 7zz -bsp1 chunk counts, backspaces and all', () => {
  const chunk = '  0%\b\b\b\b    \b\b\b\b 32% - large.bin\b\b\b\b\b\b\b\b\b 65% - large.bin';
  assert.equal(parseSevenZipPercent(chunk), 65);
  assert.equal(parseSevenZipPercent('  0M Scan\b\b\b\b\b\b\b\b\b'), null);
  assert.equal(parseSevenZipPercent('100%'), 100);
  assert.equal(parseSevenZipPercent('999% 7%'), 7);
});
