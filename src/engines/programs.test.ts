import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { BUILT_ADDONS, BUILT_PROGRAMS, PROGRAM_PACKAGES, notBuilt } from './programs.ts';

const built = { ...BUILT_PROGRAMS, ...BUILT_ADDONS };

test('every package that provides a program is in scripts/system-packages.txt', async () => {
  const text = await readFile(new URL('../../scripts/system-packages.txt', import.meta.url), 'utf8');
  const listed = new Set(text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')));
  for (const [program, pkg] of Object.entries(PROGRAM_PACKAGES)) {
    assert.ok(listed.has(pkg), `${program} needs ${pkg}, which system-packages.txt does not list`);
  }
  for (const [program, { buildPackages }] of Object.entries(built)) {
    for (const pkg of buildPackages)
      assert.ok(listed.has(pkg), `building ${program} needs ${pkg}, which system-packages.txt does not list`);
  }
});

test('set-up builds every program and addon of native/', async () => {
  const setup = await readFile(new URL('../../scripts/setup.sh', import.meta.url), 'utf8');
  for (const [program, { source }] of Object.entries(built)) {
    assert.ok(setup.includes(source), `scripts/setup.sh does not build ${program} from ${source}`);
  }
});

test('something of native/ not built is an error naming its file, set-up and the packages its build needs', () => {
  const e = notBuilt('winsmith-udp.node', BUILT_ADDONS['winsmith-udp'], new Error('ENOENT'));
  assert.equal(e.code, 'MISSING_PROGRAM');
  assert.match(e.message, /^winsmith-udp\.node is not built \(expected \/.*\/build\/winsmith-udp\.node\)$/);
  assert.match(e.hint ?? '', /scripts\/setup\.sh.*native\/udp\.c.*libuv1-dev/);
});
