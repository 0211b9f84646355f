// UDF volumes of other revisions and layouts than genisoimage's, made by mkudffs (udftools): the
// reader opens UDF 1.02 and 2.01 with File Entries or Extended File Entries, directories embedded in
// their ICB or in short/long extents, and a label in 16-bit compressed Unicode; it refuses the
// virtual (VAT) and sparable partition maps of write-once and rewritable discs as unsupported.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FormatError } from '../../src/core/errors.ts';
import { runProgram } from '../../src/engines/run.ts';
import { findEntry, listDirectory, openUdfVolume, walkTree } from '../../src/formats/udf/volume.ts';
import { withFileSource } from '../../src/io/file-source.ts';

const LABEL = 'Étiquette日本';
let dir = '';
let count = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-mkudffs-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function mkudffs(options: readonly string[]): Promise<string> {
  count += 1;
  const image = join(dir, `udf-${count}.img`);
  await runProgram('mkudffs', [
    '--utf8',
    '--new-file',
    '--blocksize=2048',
    `--label=${LABEL}`,
    ...options,
    image,
    '4000',
  ]);
  return image;
}

for (const revision of ['1.02', '2.01']) {
  for (const ad of ['inicb', 'short', 'long']) {
    for (const efe of revision === '2.01' ? [true, false] : [false]) {
      const name = `UDF ${revision}, directories ${ad === 'inicb' ? 'embedded in the ICB' : `in ${ad} extents`}, ${efe ? 'Extended ' : ''}File Entries`;
      test(`mkudffs volume: ${name}`, async () => {
        const image = await mkudffs([
          '--media-type=hd',
          `--udfrev=${revision}`,
          `--ad=${ad}`,
          ...(efe ? [] : ['--noefe']),
        ]);
        await withFileSource(image, async (source) => {
          const volume = await openUdfVolume(source);
          assert.equal(volume.label, LABEL);
          assert.equal(volume.volumeIdentifier, LABEL);
          assert.equal(volume.domain, '*OSTA UDF Compliant');
          assert.deepEqual(await listDirectory(volume, volume.root), []);
          assert.deepEqual(await walkTree(volume), []);
          assert.equal((await findEntry(volume, ''))?.isDirectory, true);
          assert.equal(await findEntry(volume, 'sources'), null);
        });
      });
    }
  }
}

for (const [media, kind] of [
  ['cdr', /Virtual Partition/],
  ['cdrw', /Sparable Partition/],
] as const) {
  test(`mkudffs ${media} volume: its type 2 partition map is refused as unsupported`, async () => {
    const image = await mkudffs([`--media-type=${media}`, '--udfrev=2.01']);
    await withFileSource(image, async (source) => {
      await assert.rejects(openUdfVolume(source), (e: unknown) => {
        assert.ok(e instanceof FormatError);
        assert.equal(e.code, 'FORMAT_UNSUPPORTED');
        assert.match(e.message, kind);
        return true;
      });
    });
  });
}
