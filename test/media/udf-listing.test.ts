// The UDF reader against 7zz on a tree shaped to reach the edges genisoimage can make: a directory
// whose identifiers fill several blocks (as sources/sxs does on real media), nesting, and names that
// need 16-bit compressed Unicode.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runProgram } from '../../src/engines/run.ts';
import { sevenZipList } from '../../src/engines/sevenzip.ts';
import { findEntry, openUdfFile, openUdfVolume, walkTree } from '../../src/formats/udf/volume.ts';
import { withFileSource } from '../../src/io/file-source.ts';

const MANIFESTS = 300;

test('a wide, deep tree with Unicode names lists and reads as 7zz sees it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-udf-listing-'));
  try {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'sources', 'sxs'), { recursive: true });
    await mkdir(join(tree, 'a', 'b', 'c', 'd', 'e', 'f'), { recursive: true });
    for (let i = 1; i <= MANIFESTS; i++) {
      await writeFile(
        join(tree, 'sources', 'sxs', `amd64_microsoft-windows-component-with-a-long-name_${i}.manifest`),
        `<assembly id="${i}"/>\n`.repeat(i),
      );
    }
    await writeFile(join(tree, '日本語.txt'), 'ja\n');
    await writeFile(join(tree, 'Ünïcode.txt'), 'latin-1\n');
    await writeFile(join(tree, 'a', 'b', 'c', 'd', 'e', 'f', 'deep.txt'), 'deep\n');
    const iso = join(dir, 'wide.iso');
    await runProgram('genisoimage', [
      '-quiet',
      '-udf',
      '-iso-level',
      '3',
      '-input-charset',
      'utf-8',
      '-o',
      iso,
      tree,
    ]);

    const ours = await withFileSource(iso, async (source) => {
      const volume = await openUdfVolume(source);
      const sxs = await findEntry(volume, 'sources/sxs');
      assert.ok(sxs !== null && sxs.size > 4 * 2048, `sources/sxs spans ${String(sxs?.size)} bytes`);
      const entries = [];
      for (const e of await walkTree(volume)) {
        const hash = e.isDirectory
          ? null
          : createHash('sha256')
              .update(await (await openUdfFile(volume, e)).read(0, e.size))
              .digest('hex');
        entries.push({ path: e.path, isDirectory: e.isDirectory, size: e.isDirectory ? 0 : e.size, hash });
      }
      return entries;
    });
    const theirs = await sevenZipList(iso, 'udf');
    const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : 1);
    assert.deepEqual(
      ours.map(({ path, isDirectory, size }) => ({ path, isDirectory, size })).sort(byPath),
      [...theirs].sort(byPath),
    );
    assert.equal(ours.filter((e) => e.path.endsWith('.manifest')).length, MANIFESTS);
    for (const e of ours) {
      if (e.hash === null) continue;
      assert.equal(
        e.hash,
        createHash('sha256')
          .update(await readFile(join(tree, e.path)))
          .digest('hex'),
        e.path,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
