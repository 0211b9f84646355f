import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { PROGRAM_PACKAGES } from './programs.ts';

test('every package that provides a program is in scripts/system-packages.txt', async () => {
  const text = await readFile(new URL('../../scripts/system-packages.txt', import.meta.url), 'utf8');
  const listed = new Set(text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')));
  for (const [program, pkg] of Object.entries(PROGRAM_PACKAGES)) {
    assert.ok(listed.has(pkg), `${program} needs ${pkg}, which system-packages.txt does not list`);
  }
});
