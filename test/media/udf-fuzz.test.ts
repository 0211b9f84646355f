// Fuzzing the UDF reader with mutated bytes of a real small UDF image (genisoimage -udf, made at test
// time): opening, walking and reading every file gives a value or a FormatError — never another
// exception or a hang. Descriptors whose tags were valid get their checksum and CRC recomputed after
// the mutation half of the time, so mutations also reach the fields behind the tag check.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { bytesSource } from '../../src/core/byte-source.ts';
import { FormatError } from '../../src/core/errors.ts';
import { crcItuT, parseDescriptorTag } from '../../src/formats/udf/descriptors.ts';
import { openUdfFile, openUdfVolume, walkTree } from '../../src/formats/udf/volume.ts';
import { makeUdfIso } from './media-fixture.ts';

const SECTOR = 2048;
let dir = '';
let image = new Uint8Array(0);
/** Offsets of every descriptor tag (of a known kind) that checks out in the original image. */
const tags: number[] = [];

function validTagAt(bytes: Uint8Array, offset: number): number | null {
  const end = Math.min(bytes.byteLength, offset - (offset % SECTOR) + SECTOR);
  try {
    const tag = parseDescriptorTag(bytes.subarray(offset, end), offset);
    const known =
      (tag.identifier >= 1 && tag.identifier <= 9) || (tag.identifier >= 256 && tag.identifier <= 266);
    return known ? tag.crcLength + 16 : null;
  } catch {
    return null;
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-udf-fuzz-'));
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'sources', 'sxs'), { recursive: true });
  await mkdir(join(tree, 'efi', 'boot'), { recursive: true });
  await writeFile(join(tree, 'setup.exe'), 'MZ'.repeat(3000));
  await writeFile(join(tree, 'sources', 'install.wim'), 'MSWIM\0\0\0'.repeat(700));
  await writeFile(join(tree, 'sources', 'sxs', 'a.cab'), 'a');
  await writeFile(join(tree, 'efi', 'boot', 'bootx64.efi'), '');
  await makeUdfIso(tree, join(dir, 'small.iso'));
  image = new Uint8Array(await readFile(join(dir, 'small.iso')));
  for (let sector = 16; sector * SECTOR < image.byteLength; sector++) {
    let offset = sector * SECTOR;
    for (let length = validTagAt(image, offset); length !== null; length = validTagAt(image, offset)) {
      tags.push(offset);
      offset += (length + 3) & ~3;
      if (offset % SECTOR === 0) break;
    }
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fixTags(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const offset of tags) {
    const crcLength = view.getUint16(offset + 10, true);
    const end = offset - (offset % SECTOR) + SECTOR;
    if (offset + 16 + crcLength <= end) {
      view.setUint16(offset + 8, crcItuT(bytes.subarray(offset + 16, offset + 16 + crcLength)), true);
    }
    let sum = 0;
    for (let i = 0; i < 16; i++) if (i !== 4) sum += bytes[offset + i] ?? 0;
    view.setUint8(offset + 4, sum & 0xff);
  }
}

async function readAll(bytes: Uint8Array): Promise<void> {
  const volume = await openUdfVolume(bytesSource(bytes));
  for (const entry of await walkTree(volume)) {
    if (entry.isDirectory) continue;
    const content = await openUdfFile(volume, entry);
    await content.read(0, Math.min(content.size, 1 << 20));
  }
}

test('the unmutated image reads, and its descriptors were found', async () => {
  assert.ok(tags.length > 10, `found ${tags.length} descriptor tags`);
  await readAll(image);
});

test(
  'mutated UDF images give a value or a FormatError, never another exception',
  { timeout: 120_000 },
  async () => {
    const position = fc.oneof(
      fc.integer({ min: 16 * SECTOR, max: image.byteLength - 1 }),
      fc
        .tuple(fc.constantFrom(...tags), fc.integer({ min: 0, max: 255 }))
        .map(([t, d]) => Math.min(t + d, image.byteLength - 1)),
    );
    const mutation = fc.record({ at: position, value: fc.integer({ min: 0, max: 255 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (mutations, fix) => {
          const bytes = image.slice();
          for (const { at, value } of mutations) bytes[at] = value;
          if (fix) fixTags(bytes);
          try {
            await readAll(bytes);
          } catch (e) {
            if (!(e instanceof FormatError)) throw e;
          }
        },
      ),
      { numRuns: 1000 },
    );
  },
);
