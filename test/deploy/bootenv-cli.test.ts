// `winsmith bootenv lock` and the ways `winsmith bootenv build` fails, as a user sees them: one line
// on stderr and an exit code, nothing left behind. None of these downloads a package.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_BOOTENV_LOCK } from '../../src/app/bootenv.ts';
import { BOOTENV_ROOTS } from '../../src/deploy/bootenv/content.ts';
import { parseBootEnvLock, serializeBootEnvLock } from '../../src/deploy/bootenv/lock.ts';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';

const skip =
  spawnSync('apt-get', ['--version']).error === undefined ? false : 'apt-get is not installed (Debian apt)';

/** `winsmith bootenv build` into DIR/out with the package cache DIR/cache. */
function build(
  dir: string,
  more: string[] = [],
  env: Record<string, string> = {},
): ReturnType<typeof runWinsmith> {
  return runWinsmith(['bootenv', 'build', '-o', join(dir, 'out'), '--cache', join(dir, 'cache'), ...more], {
    env,
  });
}

async function repoLock(): Promise<ReturnType<typeof parseBootEnvLock>> {
  return parseBootEnvLock(await readFile(DEFAULT_BOOTENV_LOCK, 'utf8'), DEFAULT_BOOTENV_LOCK);
}

test(
  'bootenv lock pins the roots and all they need from Debian; run again, it changes nothing',
  { skip },
  async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'bootenv.lock.json');
      const made = await runWinsmith(['bootenv', 'lock', '--lock', file]);
      assert.equal(made.code, 0, made.stderr);
      const lock = parseBootEnvLock(await readFile(file, 'utf8'), file);
      assert.match(made.stdout, new RegExp(`^${file}: ${lock.packages.length} packages, a new lock\\n$`));
      assert.deepEqual(lock.roots, BOOTENV_ROOTS);
      const names = lock.packages.map((p) => p.name);
      for (const name of [...BOOTENV_ROOTS, 'libc6', 'libwim15', 'libfuse3-3', 'libcurl3-gnutls']) {
        assert.ok(names.includes(name), `${name} is pinned`);
      }
      assert.equal(
        names.filter((n) => /^linux-image-\d.*-amd64$/.test(n)).length,
        1,
        'the signed image the meta package names',
      );
      assert.ok(Math.abs(lock.sourceDateEpoch - Date.now() / 1000) < 600, 'dated now');

      const before = await readFile(file);
      const again = await runWinsmith(['bootenv', 'lock', '--lock', file, '--json']);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual((JSON.parse(again.stdout) as { changes: unknown[] }).changes, []);
      assert.ok((await readFile(file)).equals(before), 'the same bytes, the time kept');
    });
  },
);

test('a program that is missing is named with its Debian package', { skip }, async () => {
  await withTempDir(async (dir) => {
    const run = await build(dir, [], { PATH: join(dir, 'nothing') });
    assert.ok(isCleanFailure(run), run.stderr);
    assert.equal(run.code, 5);
    assert.equal(
      run.stderr,
      'error: apt-get is not installed — install the Debian package apt: apt-get install -y apt\n',
    );
    assert.deepEqual(await readdir(dir), ['cache'], 'no output, no work directory left');
  });
});

test(
  'a package the archive does not have is one line naming it, and nothing is downloaded',
  { skip },
  async () => {
    await withTempDir(async (dir) => {
      const lock = await repoLock();
      const gone = {
        ...lock,
        packages: lock.packages.map((p) => (p.name === 'busybox-static' ? { ...p, version: '1:0.0-0' } : p)),
      };
      const file = join(dir, 'gone.lock.json');
      await writeFile(file, serializeBootEnvLock(gone));
      const cache = join(dir, 'cache');
      const run = await build(dir, ['--lock', file]);
      assert.ok(isCleanFailure(run), run.stderr);
      assert.equal(run.code, 3);
      assert.match(
        run.stderr,
        /^error: apt-get download could not get Version '1:0\.0-0' for 'busybox-static' was not found — run apt-get update; if the archive no longer has these versions, update the lock \(winsmith bootenv lock\)\n$/,
      );
      assert.deepEqual(await readdir(cache), [], 'nothing downloaded, no scratch left');
      assert.deepEqual((await readdir(dir)).sort(), ['cache', 'gone.lock.json']);
    });
  },
);

test('a bad lock is one line naming the field, before anything is downloaded', async () => {
  await withTempDir(async (dir) => {
    const lock = await repoLock();
    const text = serializeBootEnvLock(lock).replace(/"sha256":"[0-9a-f]{64}"/, '"sha256":"123"');
    const file = join(dir, 'bad.lock.json');
    await writeFile(file, text);
    const run = await build(dir, ['--lock', file]);
    assert.ok(isCleanFailure(run), run.stderr);
    assert.equal(run.code, 4);
    assert.equal(
      run.stderr,
      `error: ${file}: packages[0].sha256 is "123"; expected 64 lowercase hexadecimal digits — write the lock again with \`winsmith bootenv lock\`\n`,
    );
    assert.deepEqual((await readdir(dir)).sort(), ['bad.lock.json']);
  });
});
