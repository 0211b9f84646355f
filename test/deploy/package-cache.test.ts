// The package cache of the deploy environment's build, with one small package of the repository's
// lock (adduser, about 180 KiB): downloaded once and then reused, a damaged copy downloaded again,
// and bytes that are not the lock's refused.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_BOOTENV_LOCK } from '../../src/app/bootenv.ts';
import { AppError } from '../../src/core/errors.ts';
import { parseBootEnvLock, type LockedPackage } from '../../src/deploy/bootenv/lock.ts';
import { fetchLockedPackages } from '../../src/deploy/bootenv/package-cache.ts';
import { sha256OfFile } from '../../src/io/file-sha256.ts';
import { withTempDir } from '../../src/io/output.ts';

const skip =
  spawnSync('apt-get', ['--version']).error === undefined ? false : 'apt-get is not installed (Debian apt)';

async function adduser(): Promise<LockedPackage> {
  const lock = parseBootEnvLock(await readFile(DEFAULT_BOOTENV_LOCK, 'utf8'), DEFAULT_BOOTENV_LOCK);
  const p = lock.packages.find((x) => x.name === 'adduser');
  assert.ok(p !== undefined, 'the lock pins adduser');
  return p;
}

test(
  'a package is downloaded once, checked every time, and downloaded again when damaged',
  { skip },
  async () => {
    const p = await adduser();
    await withTempDir(async (cache) => {
      const paths = await fetchLockedPackages([p], cache);
      const file = paths.get('adduser') ?? '';
      assert.equal(file, join(cache, `adduser_${p.version}_all.deb`));
      assert.equal(await sha256OfFile(file), p.sha256);
      const first = await stat(file);

      await fetchLockedPackages([p], cache);
      assert.equal((await stat(file)).ino, first.ino, 'the cached file was kept');

      await writeFile(file, 'damaged');
      await fetchLockedPackages([p], cache);
      assert.equal(await sha256OfFile(file), p.sha256, 'the damaged file was replaced');
      assert.deepEqual(await readdir(cache), [`adduser_${p.version}_all.deb`], 'no scratch left');
    });
  },
);

test('a package whose bytes are not the lock’s is refused and not kept', { skip }, async () => {
  const p = await adduser();
  const wrong = { ...p, sha256: 'f'.repeat(64) };
  await withTempDir(async (cache) => {
    await assert.rejects(fetchLockedPackages([wrong], cache), (e: AppError) => {
      assert.equal(e.code, 'FORMAT_INVALID');
      assert.equal(
        e.message,
        `adduser ${p.version} was downloaded with SHA-256 ${p.sha256}; the lock says ${wrong.sha256}`,
      );
      return true;
    });
    assert.deepEqual(await readdir(cache), []);
  });
});
