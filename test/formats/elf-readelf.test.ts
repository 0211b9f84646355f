// winsmith's ELF reader against readelf (binutils) on real programs and libraries of this machine:
// the same interpreter, needed libraries in order, soname and run path.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { readElfDynamic } from '../../src/formats/elf.ts';
import { withFileSource } from '../../src/io/file-source.ts';

const skip =
  spawnSync('readelf', ['--version']).status === 0 ? false : 'readelf is not installed (Debian binutils)';

const FILES = [
  '/usr/bin/ls',
  '/usr/bin/qemu-img',
  '/usr/bin/wimlib-imagex',
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/usr/lib/x86_64-linux-gnu/libwim.so.15',
  '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
  process.execPath,
].filter((f) => existsSync(f));

function readelf(file: string): {
  interpreter: string | null;
  needed: string[];
  soname: string | null;
  runpath: string[];
} {
  const r = spawnSync('readelf', ['-W', '-l', '-d', file], { env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(r.status, 0, r.stderr.toString());
  const text = r.stdout.toString('utf8');
  const tagged = (tag: string): string[] =>
    [...text.matchAll(new RegExp(`\\(${tag}\\)\\s+\\S.*?\\[(.*)\\]`, 'g'))].map((m) => m[1] ?? '');
  const runpath = [...tagged('RUNPATH'), ...tagged('RPATH')][0];
  return {
    interpreter: /\[Requesting program interpreter: (.*)\]/.exec(text)?.[1] ?? null,
    needed: tagged('NEEDED'),
    soname: tagged('SONAME')[0] ?? null,
    runpath: runpath === undefined ? [] : runpath.split(':'),
  };
}

test(
  'interpreter, DT_NEEDED, soname and run path are what readelf says, for real files',
  { skip },
  async () => {
    assert.ok(FILES.length >= 4, `too few files to compare: ${FILES.join(', ')}`);
    for (const file of FILES) {
      const ours = await withFileSource(file, readElfDynamic);
      const { header: _, ...rest } = ours;
      assert.deepEqual(rest, readelf(file), file);
    }
  },
);
