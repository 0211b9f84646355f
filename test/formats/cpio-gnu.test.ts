// winsmith's cpio "newc" against GNU cpio (Debian cpio), both ways: an archive winsmith writes is
// listed and extracted by `cpio -t` / `cpio -i` to the same names, bytes and link targets; one
// `cpio -o -H newc` writes is read by readCpioMembers to the same.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytesSource } from '../../src/core/byte-source.ts';
import { CPIO_TYPES, readCpioMembers } from '../../src/formats/cpio.ts';
import { withTempDir } from '../../src/io/output.ts';
import { cpioArchive } from '../helpers/cpio.ts';

const skip =
  spawnSync('cpio', ['--version']).status === 0 ? false : 'GNU cpio is not installed (Debian cpio)';

function run(args: string[], options: { cwd: string; input?: Uint8Array }): Buffer {
  const env = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };
  const r = spawnSync('cpio', args, { cwd: options.cwd, input: options.input, env });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

/** Content with what an initramfs holds: directories, files of 0, 3 and 4097 bytes, links, a UTF-8 name. */
const FILES: Record<string, string> = {
  init: '#!/bin/sh\necho hi\n',
  'usr/bin/empty': '',
  'usr/lib/big.so': 'x'.repeat(4097),
  'winsmith/é.txt': 'abc',
};
const LINKS: Record<string, string> = { bin: 'usr/bin', 'usr/lib/libbig.so.1': 'big.so' };

function archive(): Uint8Array {
  const dirs = ['usr', 'usr/bin', 'usr/lib', 'winsmith'].map((name) => ({
    name,
    mode: CPIO_TYPES.S_IFDIR | 0o755,
    data: '',
  }));
  const files = Object.entries(FILES).map(([name, data]) => ({
    name,
    mode: CPIO_TYPES.S_IFREG | 0o644,
    data,
  }));
  const links = Object.entries(LINKS).map(([name, data]) => ({
    name,
    mode: CPIO_TYPES.S_IFLNK | 0o777,
    data,
  }));
  return cpioArchive([...dirs, ...files, ...links], 1_700_000_000);
}

test(
  'GNU cpio lists and extracts what winsmith writes: names, bytes, link targets, times',
  { skip },
  async () => {
    await withTempDir(async (dir) => {
      const bytes = archive();
      const listed = run(['-t', '--quiet'], { cwd: dir, input: bytes }).toString('utf8').trim().split('\n');
      assert.deepEqual(listed, [
        'usr',
        'usr/bin',
        'usr/lib',
        'winsmith',
        ...Object.keys(FILES),
        ...Object.keys(LINKS),
      ]);
      run(['-i', '-d', '-m', '--quiet', '--no-absolute-filenames'], { cwd: dir, input: bytes });
      for (const [name, text] of Object.entries(FILES))
        assert.equal(await readFile(join(dir, name), 'utf8'), text, name);
      for (const [name, target] of Object.entries(LINKS))
        assert.equal(await readlink(join(dir, name)), target, name);
      const verbose = run(['-t', '-v', '--quiet'], { cwd: dir, input: bytes }).toString('utf8');
      assert.match(verbose, /-rw-r--r-- +1 root +root +4097 Nov 14 +2023 usr\/lib\/big\.so/);
    });
  },
);

test(
  'winsmith reads what GNU cpio writes (-o -H newc): names, modes, bytes, link targets',
  { skip },
  async () => {
    await withTempDir(async (dir) => {
      const src = join(dir, 'src');
      for (const d of ['usr/bin', 'usr/lib', 'winsmith']) await mkdir(join(src, d), { recursive: true });
      for (const [name, text] of Object.entries(FILES)) await writeFile(join(src, name), text);
      for (const [name, target] of Object.entries(LINKS)) await symlink(target, join(src, name));
      const names = ['usr', 'usr/bin', 'usr/lib', 'winsmith', ...Object.keys(FILES), ...Object.keys(LINKS)];
      const bytes = new Uint8Array(
        run(['-o', '-H', 'newc', '--quiet'], { cwd: src, input: Buffer.from(`${names.join('\n')}\n`) }),
      );
      assert.equal(bytes.byteLength % 512, 0, 'GNU cpio pads the archive to 512-byte blocks');
      const members = await readCpioMembers(bytesSource(bytes));
      assert.deepEqual(
        members.map((m) => m.name),
        names,
      );
      const data = (name: string): string => {
        const m = members.find((x) => x.name === name);
        assert.ok(m !== undefined, name);
        return new TextDecoder().decode(bytes.subarray(m.dataOffset, m.dataOffset + m.fileSize));
      };
      for (const [name, text] of Object.entries(FILES)) assert.equal(data(name), text, name);
      for (const [name, target] of Object.entries(LINKS)) assert.equal(data(name), target, name);
      const kinds = members.map((m) => m.mode & CPIO_TYPES.S_IFMT);
      assert.deepEqual(kinds, [
        ...Array<number>(4).fill(CPIO_TYPES.S_IFDIR),
        ...Array<number>(4).fill(CPIO_TYPES.S_IFREG),
        ...Array<number>(2).fill(CPIO_TYPES.S_IFLNK),
      ]);
    });
  },
);
