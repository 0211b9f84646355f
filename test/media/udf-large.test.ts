// A file larger than one UDF extent (at most 2^30 - 2048 bytes as genisoimage records them; ECMA-167
// 4/14.14.1.1 caps an extent at 2^30 - 1), as install.wim is on real Windows Server media: the reader
// must see several extents and read across their boundary; 7zz extracts it, reporting progress. The input file is sparse; the ISO is not
// (genisoimage writes the zeros: about 1.2 GB for a second or two), and is removed at the end.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, open, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ProgressEvent } from '../../src/core/progress.ts';
import { sevenZipExtract, sevenZipList } from '../../src/engines/sevenzip.ts';
import { fileExtents, findEntry, openUdfFile, openUdfVolume } from '../../src/formats/udf/volume.ts';
import { withFileSource } from '../../src/io/file-source.ts';
import { makeUdfIso } from './media-fixture.ts';

const SIZE = 1200 * 1024 * 1024 + 3;
const MARKERS: readonly (readonly [number, string])[] = [
  [0, 'START'],
  [2 ** 30 - 2048 - 4, 'ACROSS'],
  [2 ** 30 + 12345, 'MIDDLE'],
  [SIZE - 3, 'END'],
];

test('a file over 1 GiB spans extents, and is read across them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-udf-large-'));
  try {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'sources'), { recursive: true });
    const big = join(tree, 'sources', 'install.wim');
    const handle = await open(big, 'w');
    try {
      for (const [offset, text] of MARKERS) await handle.write(text, offset);
    } finally {
      await handle.close();
    }
    await truncate(big, SIZE);
    const iso = join(dir, 'large.iso');
    await makeUdfIso(tree, iso);

    await withFileSource(iso, async (source) => {
      const volume = await openUdfVolume(source);
      const entry = await findEntry(volume, 'sources/install.wim');
      assert.ok(entry !== null);
      assert.equal(entry.size, SIZE);
      const extents = await fileExtents(volume, entry);
      assert.ok(extents.length >= 2, `expected several extents, found ${extents.length}`);
      for (const e of extents) assert.ok(e.length < 2 ** 30);
      assert.equal(
        extents.reduce((sum, e) => sum + e.length, 0),
        SIZE,
      );
      const content = await openUdfFile(volume, entry);
      for (const [offset, text] of MARKERS) {
        const bytes = await content.read(offset, text.length);
        assert.equal(Buffer.from(bytes).toString('latin1'), text, `at ${offset}`);
      }
      const first = extents[0];
      assert.ok(first !== undefined);
      const zeros = await content.read(first.length - 100, 90);
      assert.ok(zeros.every((b) => b === 0));
    });
    const events: ProgressEvent[] = [];
    const out = join(dir, 'out');
    await mkdir(out);
    await sevenZipExtract(iso, out, {
      type: 'udf',
      flat: true,
      paths: ['sources/install.wim'],
      totalBytes: SIZE,
      onProgress: (e) => events.push(e),
    });
    assert.ok(events.length > 0, 'no progress reported');
    for (const e of events) assert.ok(e.unit === 'bytes' && e.total === SIZE && e.done <= SIZE);
    const extracted = await open(join(out, 'install.wim'), 'r');
    try {
      assert.equal((await extracted.stat()).size, SIZE);
      for (const [offset, text] of MARKERS) {
        const { buffer } = await extracted.read(Buffer.alloc(text.length), 0, text.length, offset);
        assert.equal(buffer.toString('latin1'), text);
      }
    } finally {
      await extracted.close();
    }
    const listed = await sevenZipList(iso, 'udf');
    assert.deepEqual(
      listed.find((e) => e.path === 'sources/install.wim'),
      { path: 'sources/install.wim', isDirectory: false, size: SIZE },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
