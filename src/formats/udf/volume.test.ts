// The volume reader on small UDF images built here, byte by byte, for what the reference tools never
// write: continuation extents (Allocation Extent Descriptors), unrecorded extents, data embedded in
// the entry, Extended File Entries with long_ad, loops, and the named limits.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesSource } from '../../core/byte-source.ts';
import { FormatError } from '../../core/errors.ts';
import { crcItuT } from './descriptors.ts';
import {
  MAX_PATH_DEPTH,
  fileExtents,
  findEntry,
  listDirectory,
  openUdfFile,
  openUdfVolume,
  walkTree,
} from './volume.ts';

const SECTOR = 2048;
const PARTITION_START = 300;

/** A UDF 1.02-shaped volume: VRS, anchor, main VDS at 32, one type 1 partition at sector 300. */
class ImageBuilder {
  readonly bytes = new Uint8Array(SECTOR * 400);
  private nextBlock = 2;

  constructor(label: string, recognition = ['BEA01', 'NSR02', 'TEA01']) {
    for (const [i, id] of recognition.entries()) {
      this.bytes.set([0, ...new TextEncoder().encode(id), 1], (16 + i) * SECTOR);
    }
    const avdp = new Uint8Array(512);
    this.u32(avdp, 16, 16 * SECTOR);
    this.u32(avdp, 20, 32);
    this.put(256 * SECTOR, this.seal(avdp, 2, 256));
    const pvd = new Uint8Array(512);
    pvd.set(this.dstring(label, 32), 24);
    this.put(32 * SECTOR, this.seal(pvd, 1, 32));
    const pd = new Uint8Array(512);
    pd.set(new TextEncoder().encode('+NSR02'), 25);
    this.u32(pd, 188, PARTITION_START);
    this.u32(pd, 192, 100);
    this.put(33 * SECTOR, this.seal(pd, 5, 33));
    const lvd = new Uint8Array(446);
    lvd.set(this.dstring(label, 128), 84);
    this.u32(lvd, 212, SECTOR);
    lvd.set(new TextEncoder().encode('*OSTA UDF Compliant'), 217);
    this.u32(lvd, 248, SECTOR);
    this.u32(lvd, 264, 6);
    this.u32(lvd, 268, 1);
    lvd.set([1, 6, 1, 0, 0, 0], 440);
    this.put(34 * SECTOR, this.seal(lvd, 6, 34));
    this.put(35 * SECTOR, this.seal(new Uint8Array(512), 8, 35));
    const fsd = new Uint8Array(512);
    this.u32(fsd, 400, SECTOR);
    this.u32(fsd, 404, 1);
    this.putBlock(0, this.seal(fsd, 256, 0));
  }

  u32(bytes: Uint8Array, offset: number, value: number): void {
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(offset, value, true);
  }

  dstring(text: string, size: number): Uint8Array {
    const field = new Uint8Array(size);
    field.set([8, ...new TextEncoder().encode(text)]);
    field[size - 1] = text.length + 1;
    return field;
  }

  seal(bytes: Uint8Array, identifier: number, location: number): Uint8Array {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    dv.setUint16(0, identifier, true);
    dv.setUint16(2, 2, true);
    dv.setUint16(10, bytes.byteLength - 16, true);
    dv.setUint16(8, crcItuT(bytes.subarray(16)), true);
    dv.setUint32(12, location, true);
    let sum = 0;
    for (let i = 0; i < 16; i++) if (i !== 4) sum += bytes[i] ?? 0;
    dv.setUint8(4, sum & 0xff);
    return bytes;
  }

  put(offset: number, data: Uint8Array): void {
    this.bytes.set(data, offset);
  }

  putBlock(block: number, data: Uint8Array): void {
    this.put((PARTITION_START + block) * SECTOR, data);
  }

  alloc(blocks = 1): number {
    const block = this.nextBlock;
    this.nextBlock += blocks;
    return block;
  }

  /** A File Entry (or Extended File Entry) at `block` with the given allocation area. */
  entry(
    block: number,
    options: { type: number; size: number; adType: number; area: Uint8Array; extended?: boolean },
  ): void {
    const header = options.extended === true ? 216 : 176;
    const fe = new Uint8Array(header + options.area.byteLength);
    const dv = new DataView(fe.buffer);
    dv.setUint16(20, 4, true);
    dv.setUint8(27, options.type);
    dv.setUint16(34, options.adType, true);
    dv.setBigUint64(56, BigInt(options.size), true);
    dv.setUint32(options.extended === true ? 212 : 172, options.area.byteLength, true);
    fe.set(options.area, header);
    this.putBlock(block, this.seal(fe, options.extended === true ? 266 : 261, block));
  }

  shortAds(ads: readonly (readonly [length: number, type: number, block: number])[]): Uint8Array {
    const area = new Uint8Array(ads.length * 8);
    for (const [i, [length, type, block]] of ads.entries()) {
      this.u32(area, i * 8, (type << 30) | length);
      this.u32(area, i * 8 + 4, block);
    }
    return area;
  }

  fid(name: string, block: number, flags: number): Uint8Array {
    const id = name === '' ? [] : [8, ...new TextEncoder().encode(name)];
    const bytes = new Uint8Array((38 + id.length + 3) & ~3);
    bytes[18] = flags;
    bytes[19] = id.length;
    this.u32(bytes, 20, SECTOR);
    this.u32(bytes, 24, block);
    bytes.set(id, 38);
    return this.seal(bytes, 257, 0);
  }

  /** A directory at `block` holding `children` ([name, block, isDirectory]), FIDs embedded in the entry. */
  directory(block: number, parent: number, children: readonly (readonly [string, number, boolean])[]): void {
    const fids = [this.fid('', parent, 8), ...children.map(([n, b, d]) => this.fid(n, b, d ? 2 : 0))];
    const area = new Uint8Array(fids.reduce((sum, f) => sum + f.byteLength, 0));
    let pos = 0;
    for (const f of fids) {
      area.set(f, pos);
      pos += f.byteLength;
    }
    this.entry(block, { type: 4, size: area.byteLength, adType: 3, area });
  }
}

function isFormatError(code: string, pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof FormatError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  };
}

test('a file spread over extents, a continuation (Allocation Extent Descriptor) and a hole reads whole', async () => {
  const b = new ImageBuilder('SPREAD');
  const file = b.alloc();
  const [d1, d2, aed, d3] = [b.alloc(2), b.alloc(), b.alloc(), b.alloc()];
  const content = new Uint8Array(2 * SECTOR + 1000 + SECTOR + 500);
  for (let i = 0; i < content.byteLength; i++) content[i] = (i * 7 + 3) & 0xff;
  content.fill(0, 2 * SECTOR + 1000, 3 * SECTOR + 1000);
  b.putBlock(d1, content.subarray(0, 2 * SECTOR));
  b.putBlock(d2, content.subarray(2 * SECTOR, 2 * SECTOR + 1000));
  b.putBlock(d3, content.subarray(3 * SECTOR + 1000));
  b.entry(file, {
    type: 5,
    size: content.byteLength,
    adType: 0,
    area: b.shortAds([
      [2 * SECTOR, 0, d1],
      [SECTOR, 3, aed],
    ]),
  });
  const more = b.shortAds([
    [1000, 0, d2],
    [SECTOR, 2, 0],
    [SECTOR, 0, d3],
  ]);
  const aedBytes = new Uint8Array(24 + more.byteLength);
  b.u32(aedBytes, 20, more.byteLength);
  aedBytes.set(more, 24);
  b.putBlock(aed, b.seal(aedBytes, 258, aed));
  b.directory(1, 1, [['data.bin', file, false]]);

  const volume = await openUdfVolume(bytesSource(b.bytes));
  assert.equal(volume.label, 'SPREAD');
  const entry = await findEntry(volume, 'DATA.BIN');
  assert.ok(entry !== null);
  const extents = await fileExtents(volume, entry);
  assert.deepEqual(
    extents.map((e) => [e.offset === null ? null : e.offset / SECTOR - PARTITION_START, e.length]),
    [
      [d1, 2 * SECTOR],
      [d2, 1000],
      [null, SECTOR],
      [d3, 500],
    ],
  );
  const source = await openUdfFile(volume, entry);
  assert.deepEqual(await source.read(0, source.size), content);
  assert.deepEqual(
    await source.read(2 * SECTOR - 3, 1010),
    content.subarray(2 * SECTOR - 3, 2 * SECTOR + 1007),
  );
});

test('data embedded in an Extended File Entry, and names matched exactly before ignoring case', async () => {
  const b = new ImageBuilder('EMBED');
  const [upper, lower] = [b.alloc(), b.alloc()];
  b.entry(upper, { type: 5, size: 5, adType: 3, area: new TextEncoder().encode('UPPER'), extended: true });
  b.entry(lower, { type: 5, size: 5, adType: 3, area: new TextEncoder().encode('lower!!'), extended: true });
  b.directory(1, 1, [
    ['README', upper, false],
    ['readme', lower, false],
  ]);
  const volume = await openUdfVolume(bytesSource(b.bytes));
  const read = async (path: string): Promise<string> => {
    const entry = await findEntry(volume, path);
    assert.ok(entry !== null, path);
    const source = await openUdfFile(volume, entry);
    return new TextDecoder().decode(await source.read(0, source.size));
  };
  assert.equal(await read('README'), 'UPPER');
  assert.equal(await read('readme'), 'lower');
  assert.equal(await read('ReadMe'), 'UPPER');
  assert.deepEqual(
    await fileExtents(volume, (await listDirectory(volume, volume.root))[0] ?? volume.root),
    [],
  );
});

test('a directory that contains its own parent is a loop, reported as a FormatError', async () => {
  const b = new ImageBuilder('LOOP');
  const sub = b.alloc();
  b.directory(1, 1, [['sub', sub, true]]);
  b.directory(sub, 1, [['back', 1, true]]);
  const volume = await openUdfVolume(bytesSource(b.bytes));
  await assert.rejects(walkTree(volume), isFormatError('FORMAT_INVALID', /loops back/));
  assert.equal((await findEntry(volume, 'sub/back/sub/back'))?.path, 'sub/back/sub/back');
  const deep = Array.from({ length: MAX_PATH_DEPTH + 1 }, (_, i) => (i % 2 === 0 ? 'sub' : 'back')).join('/');
  await assert.rejects(findEntry(volume, deep), isFormatError('LIMIT_EXCEEDED', /over the limit of 64/));
});

test('an allocation extent chain that points at itself is a FormatError', async () => {
  const b = new ImageBuilder('CHAIN');
  const [file, aed] = [b.alloc(), b.alloc()];
  b.entry(file, { type: 5, size: 10 * SECTOR, adType: 0, area: b.shortAds([[SECTOR, 3, aed]]) });
  const more = b.shortAds([
    [SECTOR, 0, aed],
    [SECTOR, 3, aed],
  ]);
  const aedBytes = new Uint8Array(24 + more.byteLength);
  b.u32(aedBytes, 20, more.byteLength);
  aedBytes.set(more, 24);
  b.putBlock(aed, b.seal(aedBytes, 258, aed));
  b.directory(1, 1, [['f', file, false]]);
  const volume = await openUdfVolume(bytesSource(b.bytes));
  const entry = await findEntry(volume, 'f');
  assert.ok(entry !== null);
  await assert.rejects(fileExtents(volume, entry), isFormatError('FORMAT_INVALID', /loops back/));
});

test('a file whose extents hold less than its length is a FormatError', async () => {
  const b = new ImageBuilder('SHORT');
  const [file, data] = [b.alloc(), b.alloc()];
  b.entry(file, { type: 5, size: SECTOR + 1, adType: 0, area: b.shortAds([[SECTOR, 0, data]]) });
  b.directory(1, 1, [['f', file, false]]);
  const volume = await openUdfVolume(bytesSource(b.bytes));
  const entry = await findEntry(volume, 'f');
  assert.ok(entry !== null);
  await assert.rejects(
    openUdfFile(volume, entry),
    isFormatError('FORMAT_INVALID', /hold 2048 bytes, the entry says 2049/),
  );
});

test('an image with only ISO 9660 descriptors is not UDF, with a hint', async () => {
  const b = new ImageBuilder('NOUDF', ['CD001']);
  await assert.rejects(openUdfVolume(bytesSource(b.bytes)), (e: unknown) => {
    assert.ok(e instanceof FormatError);
    assert.equal(e.code, 'FORMAT_INVALID');
    assert.match(e.message, /no NSR02\/NSR03/);
    assert.match(e.hint ?? '', /Windows installation media are UDF/);
    return true;
  });
});
