// A capture into a repository, both ways it is pushed: in one pass where the repository offers it
// (a data directory, for a caller who may read every image), and chunk by chunk where it does not
// (the same repository's images without their one-pass store, as a caller limited to scopes has
// them). Both record the same editions, lineage and tree, and leave no scratch behind.

import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { captureInto } from '../../src/app/capture-into.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import { pullFile, type PushTarget } from '../../src/app/transfer.ts';
import { withTempDir } from '../../src/io/output.ts';
import { wimTree } from '../disk/helpers.ts';

test('a directory captured into a repository, in one pass or chunk by chunk, gives the same image', async () => {
  await withTempDir(async (dir) => {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'Windows', 'System32'), { recursive: true });
    await writeFile(join(tree, 'Windows', 'System32', 'kernel.txt'), 'kernel\n'.repeat(5000));
    await writeFile(join(tree, 'readme.txt'), 'hello\n');
    const scratch = join(dir, 'scratch');
    await mkdir(scratch);
    const app = await LocalApp.openDataDir(join(dir, 'data'));
    try {
      const images = app.as({ user: 'tester', client: 'test' }).images;
      assert.equal(typeof images.storeFile, 'function', 'a data directory stores in one pass for it');
      const chunkByChunk: PushTarget = {
        location: images.location,
        chunking: () => images.chunking(),
        beginUpload: (ref, manifest) => images.beginUpload(ref, manifest),
        putChunk: (id, digest, bytes) => images.putChunk(id, digest, bytes),
        commitUpload: (id, meta) => images.commitUpload(id, meta),
      };
      const lineage = { parentDigest: null, sourceIsoSha256: 'a'.repeat(64) };
      const trees = [];
      for (const [tag, target] of [
        ['one-pass', images],
        ['chunks', chunkByChunk],
      ] as const) {
        const ref = { name: 'lab/tree', tag };
        const result = await captureInto(target, tree, ref, {
          name: 'Tree',
          compression: 'LZX',
          imageProperties: { 'WINSMITH/SOURCE': 'test' },
          scratchParent: scratch,
          lineage,
        });
        assert.equal(result.partition, null);
        assert.deepEqual(
          result.image.editions.map((e) => (e as { name: string }).name),
          ['Tree'],
        );
        assert.equal(result.image.sourceIsoSha256, lineage.sourceIsoSha256);
        const out = join(dir, `${tag}.wim`);
        await pullFile(images, ref, out);
        trees.push(await wimTree(out, 1));
      }
      assert.deepEqual(trees[0], trees[1]);
      assert.deepEqual(await readdir(scratch), [], 'no scratch left');
    } finally {
      await app.close();
    }
  });
});
