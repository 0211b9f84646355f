import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  installBootFiles,
  isBootFileName,
  locateBootFiles,
  resolveBootFile,
} from '../../src/boot/boot-files.ts';
import { isAppError } from '../../src/core/errors.ts';

test("Debian's ipxe package provides the three iPXE builds", async () => {
  const located = await locateBootFiles();
  assert.equal(located['undionly.kpxe'], '/usr/lib/ipxe/undionly.kpxe');
  assert.equal(located['ipxe.efi'], '/usr/lib/ipxe/ipxe.efi');
  assert.equal(located['snponly.efi'], '/usr/lib/ipxe/snponly.efi');
});

test('a configured iPXE directory missing a build is an error naming the files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-ipxe-'));
  try {
    await writeFile(join(dir, 'ipxe.efi'), 'x');
    await assert.rejects(locateBootFiles(dir), (e: unknown) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'FILE_NOT_FOUND');
      assert.match(e.message, /undionly\.kpxe, snponly\.efi not found in /);
      assert.match(e.hint ?? '', /ipxe package/);
      return true;
    });
    await writeFile(join(dir, 'undionly.kpxe'), 'x');
    await writeFile(join(dir, 'snponly.efi'), 'x');
    assert.equal((await locateBootFiles(dir))['ipxe.efi'], join(dir, 'ipxe.efi'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('boot files: the boot root wins, names are single components', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-bootroot-'));
  try {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'ipxe.efi'), 'signed build');
    const located = await locateBootFiles();
    assert.equal(await resolveBootFile('ipxe.efi', { located, bootRoot: dir }), join(dir, 'ipxe.efi'));
    assert.equal(
      await resolveBootFile('snponly.efi', { located, bootRoot: dir }),
      '/usr/lib/ipxe/snponly.efi',
    );
    assert.equal(await resolveBootFile('sub', { located, bootRoot: dir }), null);
    for (const name of ['..', '.', '../x', 'a/b', 'a\\b', '', 'x'.repeat(256)]) {
      assert.equal(isBootFileName(name), false, name);
      assert.equal(await resolveBootFile(name, { located, bootRoot: dir }), null);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('installBootFiles copies the iPXE builds into the boot root and keeps other files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-install-'));
  try {
    const root = join(dir, 'boot');
    await mkdir(root);
    await writeFile(join(root, 'wimboot'), 'mine');
    await writeFile(join(root, 'ipxe.efi'), 'old copy');
    const located = await locateBootFiles();
    await installBootFiles(root, located);
    assert.deepEqual((await readdir(root)).sort(), ['ipxe.efi', 'snponly.efi', 'undionly.kpxe', 'wimboot']);
    assert.deepEqual(await readFile(join(root, 'ipxe.efi')), await readFile(located['ipxe.efi']));
    assert.equal(await readFile(join(root, 'wimboot'), 'utf8'), 'mine');
    // Debian's ipxe.efi is a symbolic link to /boot/ipxe.efi: the boot root holds the file, no link.
    for (const name of await readdir(root)) {
      assert.ok((await lstat(join(root, name))).isFile(), `${name} in the boot root is not a regular file`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
