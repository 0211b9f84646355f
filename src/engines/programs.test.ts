import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { BUILT_PROGRAMS, PROGRAM_PACKAGES, notBuilt } from './programs.ts';

test('every package that provides a program is in scripts/system-packages.txt', async () => {
  const text = await readFile(new URL('../../scripts/system-packages.txt', import.meta.url), 'utf8');
  const listed = new Set(text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')));
  for (const [program, pkg] of Object.entries(PROGRAM_PACKAGES)) {
    assert.ok(listed.has(pkg), `${program} needs ${pkg}, which system-packages.txt does not list`);
  }
  for (const [program, { buildPackages }] of Object.entries(BUILT_PROGRAMS)) {
    for (const pkg of buildPackages)
      assert.ok(listed.has(pkg), `building ${program} needs ${pkg}, which system-packages.txt does not list`);
  }
});

test('set-up builds every program of native/', async () => {
  const setup = await readFile(new URL('../../scripts/setup.sh', import.meta.url), 'utf8');
  for (const [program, { source }] of Object.entries(BUILT_PROGRAMS)) {
    assert.ok(setup.includes(source), `scripts/setup.sh does not build ${program} from ${source}`);
  }
});

test('something of native/ not built is an error naming its file, set-up and the packages its build needs', () => {
  const e = notBuilt('winsmith-wim', BUILT_PROGRAMS['winsmith-wim'], new Error('ENOENT'));
  assert.equal(e.code, 'MISSING_PROGRAM');
  assert.match(e.message, /^winsmith-wim is not built \(expected \/.*\/build\/winsmith-wim\)$/);
  assert.match(e.hint ?? '', /scripts\/setup\.sh.*native\/wim\.c.*libwim-dev/);
});
