// `winsmith import ISO` on generated installation media (test/media/media-fixture.ts): each
// edition becomes an image named from edition and build, boot.wim one more, all recording the
// ISO's SHA-256; names can be overridden. And the recipe lineage `image customize` writes into the
// WIM XML is read back when a WIM is pushed.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { wimCapture, wimUpdate } from '../../src/engines/wimlib.ts';
import { withTempDir } from '../../src/io/output.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { artifactMetaOf } from '../../src/app/artifact-meta.ts';
import { editionRef, importIso, sha256File } from '../../src/app/import-iso.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import { buildMediaIso } from '../media/media-fixture.ts';
import { AppError } from '../../src/core/errors.ts';

const ACTOR = { user: 'tester', client: 'test' };

test('names derive from edition and build', () => {
  assert.deepEqual(editionRef('Windows Server 2022 Standard', '10.0.20348.169', 1), {
    name: 'windows-server/2022-standard',
    tag: '10.0.20348.169',
  });
  assert.deepEqual(editionRef('Windows Server 2022 Datacenter (Desktop Experience)', null, 4, 'team-a/ws'), {
    name: 'team-a/ws/2022-datacenter-desktop-experience',
    tag: 'latest',
  });
  assert.deepEqual(editionRef('Windows 11 Pro', '10.0.22631.2428', 6).name, 'windows/11-pro');
});

test(
  'import stores each edition and boot.wim as images with the ISO SHA-256; --name overrides one',
  { timeout: 120_000 },
  async () => {
    await withTempDir(async (dir) => {
      const { iso } = await buildMediaIso(dir);
      const app = await LocalApp.openDataDir(join(dir, 'data'));
      const repo = app.as(ACTOR).images;
      try {
        const imported = await importIso(repo, iso, { names: { '2': 'team-a/dc:gold' } });
        const isoSha = await sha256File(iso);
        assert.deepEqual(
          imported.map((i) => i.ref),
          [
            'windows-server/2025-standard:10.0.26100.1742',
            'team-a/dc:gold',
            'windows-server/boot:10.0.26100.1742',
          ],
        );
        for (const i of imported) {
          assert.equal(i.result.image.sourceIsoSha256, isoSha);
          assert.equal(i.result.image.mediaType, 'application/x-wim');
        }
        // Each edition alone in its WIM; boot.wim pushed whole (Windows PE and Setup).
        assert.deepEqual(
          imported.map((i) => i.result.image.editions.length),
          [1, 1, 2],
        );
        const dc = imported[1]?.result.image.editions[0] as { editionId: string };
        assert.equal(dc.editionId, 'ServerDatacenter');
        assert.equal((await repo.listImages()).length, 3);
        assert.equal((await repo.check()).ok, true);
        await assert.rejects(
          importIso(repo, iso, { names: { '7': 'team-a/none:v1' } }),
          (e: unknown) =>
            e instanceof AppError &&
            e.code === 'NOT_FOUND' &&
            /--name 7=…: the install image of .* has no edition 7; it has 1 \(.*\), 2 \(.*\)$/.test(
              e.message,
            ),
        );
        assert.equal(
          (await repo.listImages()).length,
          3,
          'nothing stored for a --name that names no edition',
        );
      } finally {
        await app.close();
      }
    });
  },
);

test(
  'the recipe recorded in the WIM XML (WINSMITH/*) is read back as lineage',
  { timeout: 60_000 },
  async () => {
    await withTempDir(async (dir) => {
      const tree = join(dir, 'tree');
      await mkdir(tree);
      await writeFile(join(tree, 'a.txt'), 'a');
      const wim = join(dir, 'x.wim');
      await wimCapture(tree, wim, { name: 'x' });
      await wimUpdate(wim, 1, [], {
        properties: {
          'WINSMITH/RECIPESHA256': 'ab'.repeat(32),
          'WINSMITH/RECIPE': 'steps: []',
          'WINSMITH/SOURCE': 'GUID:1',
        },
      });
      const meta = await artifactMetaOf(wim);
      assert.deepEqual(meta.recipe, {
        index: 1,
        recipeSha256: 'ab'.repeat(32),
        recipe: 'steps: []',
        source: 'GUID:1',
        sourceFilesSha256: null,
        build: null,
      });
    });
  },
);
