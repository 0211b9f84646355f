import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { withTempDir } from '../../io/output.ts';
import { BOOTENV_ROOTS, KERNEL_PACKAGE } from './content.ts';
import { readBootEnvLock } from './inputs.ts';
import { bootEnvLockSha256, parseBootEnvLock, serializeBootEnvLock, type BootEnvLock } from './lock.ts';
import { lockChanges } from './update-lock.ts';

const REPO_LOCK = new URL('../../../bootenv.lock.json', import.meta.url);

const pkg = (name: string, version = '1.0-1', architecture = 'amd64') => ({
  name,
  version,
  architecture,
  sha256: 'ab'.repeat(32),
  size: 1000,
});

const LOCK: BootEnvLock = {
  format: 1,
  architecture: 'amd64',
  sourceDateEpoch: 1_700_000_000,
  roots: ['busybox-static'],
  packages: [
    pkg('adduser', '3.134', 'all'),
    pkg('busybox-static', '1:1.35.0-4+deb12u1+b1'),
    pkg('libc6', '2.36-9'),
  ],
};

/** The one line a bad lock gives, or fails. */
function problem(lock: unknown): string {
  try {
    parseBootEnvLock(typeof lock === 'string' ? lock : JSON.stringify(lock), 'x.lock');
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'FORMAT_INVALID');
    assert.equal(e.hint, 'write the lock again with `winsmith bootenv lock`');
    assert.doesNotMatch(e.message, /\n/);
    return e.message;
  }
  assert.fail('the lock was accepted');
}

test('a lock reads back as it was written, one package a line, and its digest is of those bytes', () => {
  const text = serializeBootEnvLock(LOCK);
  assert.deepEqual(parseBootEnvLock(text, 'x'), LOCK);
  assert.equal(text.split('\n').filter((l) => l.includes('"sha256"')).length, 3);
  assert.match(bootEnvLockSha256(LOCK), /^[0-9a-f]{64}$/);
  assert.notEqual(bootEnvLockSha256(LOCK), bootEnvLockSha256({ ...LOCK, sourceDateEpoch: 1 }));
});

test('a bad lock is one line naming the place, what was found and what was expected', () => {
  assert.match(problem('{'), /^x\.lock: not JSON: /);
  assert.equal(problem({ ...LOCK, format: 2 }), 'x.lock: format is 2; expected 1');
  const { sourceDateEpoch: _, ...undated } = LOCK;
  assert.equal(problem(undated), 'x.lock: sourceDateEpoch is missing; expected seconds since 1970');
  assert.equal(
    problem({ ...LOCK, packages: [pkg('adduser'), { ...pkg('busybox-static'), sha256: 'xyz' }] }),
    'x.lock: packages[1].sha256 is "xyz"; expected 64 lowercase hexadecimal digits',
  );
  assert.equal(
    problem({ ...LOCK, packages: [{ ...pkg('busybox-static'), version: '--force-yes' }] }),
    'x.lock: packages[0].version is "--force-yes"; expected a Debian version ([epoch:]upstream[-revision])',
  );
  assert.equal(
    problem({ ...LOCK, packages: [pkg('libc6'), pkg('busybox-static')] }),
    'x.lock: packages[1] busybox-static comes after libc6; expected names sorted, each once',
  );
  assert.equal(
    problem({ ...LOCK, packages: [pkg('busybox-static'), pkg('busybox-static')] }),
    'x.lock: packages[1] busybox-static comes after busybox-static; expected names sorted, each once',
  );
  assert.equal(
    problem({ ...LOCK, packages: [pkg('busybox-static', '1', 'arm64')] }),
    'x.lock: packages[0] busybox-static is for arm64; expected amd64 or all',
  );
  assert.equal(problem({ ...LOCK, roots: ['wimtools'] }), 'x.lock: root wimtools is not among the packages');
  assert.equal(problem({ ...LOCK, extra: true }), 'x.lock: the lock has fields a lock does not have: extra');
  assert.equal(
    problem({ ...LOCK, packages: [{ ...pkg('busybox-static'), md5: '0' }] }),
    'x.lock: packages[0] has fields a lock does not have: md5',
  );
});

test("the repository's lock is valid and pins the roots content.ts builds from, the kernel among them", async () => {
  const lock = await readBootEnvLock(REPO_LOCK.pathname);
  assert.deepEqual(lock.roots, BOOTENV_ROOTS);
  assert.ok(lock.packages.some((p) => p.name === KERNEL_PACKAGE));
  assert.equal(
    lock.packages.filter((p) => /^linux-image-\d.*-amd64$/.test(p.name)).length,
    1,
    'one signed kernel image package',
  );
  assert.equal(
    serializeBootEnvLock(lock),
    await readFile(REPO_LOCK, 'utf8'),
    'the file is as the lock command writes it',
  );
});

test('a lock for other roots than content.ts is refused, saying to write it again', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'old.lock.json');
    await writeFile(file, serializeBootEnvLock(LOCK));
    await assert.rejects(readBootEnvLock(file), (e: AppError) => {
      assert.equal(e.code, 'FORMAT_INVALID');
      assert.equal(
        e.message,
        `${file} pins amd64 packages for busybox-static; expected amd64 for ${BOOTENV_ROOTS.join(', ')}`,
      );
      assert.match(e.hint ?? '', /winsmith bootenv lock/);
      return true;
    });
    await assert.rejects(
      readBootEnvLock(join(dir, 'none.json')),
      /cannot read the deploy environment's lock/,
    );
  });
});

test('the changes between two locks are the packages added, removed and moved to another version', () => {
  const after: BootEnvLock = {
    ...LOCK,
    packages: [
      pkg('adduser', '3.134', 'all'),
      pkg('busybox-static', '1:1.36.1-1'),
      pkg('zlib1g', '1:1.2.13'),
    ],
  };
  assert.deepEqual(lockChanges(LOCK, after), [
    { name: 'busybox-static', from: '1:1.35.0-4+deb12u1+b1', to: '1:1.36.1-1' },
    { name: 'libc6', from: '2.36-9', to: null },
    { name: 'zlib1g', from: null, to: '1:1.2.13' },
  ]);
  assert.deepEqual(lockChanges(LOCK, LOCK), []);
  assert.equal(lockChanges(null, LOCK).length, 3);
});
