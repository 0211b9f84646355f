import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../core/errors.ts';
import { GPT_TYPES, gptUsableRange, parseGpt, serializeGpt, type GptDisk, type GptPartition } from './gpt.ts';

function diskOf(totalSectors: number, partitions: GptPartition[], sectorSize = 512): GptDisk {
  return {
    sectorSize,
    totalSectors,
    diskGuid: '0b8ae0d4-4c5b-4a1e-9a3f-0e2f4d6c8a10',
    entryCount: 128,
    ...gptUsableRange(totalSectors, sectorSize),
    partitions,
  };
}

function roundTrip(disk: GptDisk): GptDisk {
  const { head, tail } = serializeGpt(disk);
  return parseGpt(head, tail, disk.totalSectors, disk.sectorSize);
}

test('a Windows-style table reads back, with the header where UEFI puts it', () => {
  const disk = diskOf(1024 * 2048, [
    {
      number: 1,
      typeGuid: GPT_TYPES.EFI_SYSTEM,
      uniqueGuid: '11111111-2222-4333-8444-555555555555',
      firstLba: 2048,
      lastLba: 2048 + 260 * 2048 - 1,
      attributes: 0n,
      name: 'EFI system partition',
    },
    {
      number: 4,
      typeGuid: GPT_TYPES.WINDOWS_RECOVERY,
      uniqueGuid: '21111111-2222-4333-8444-555555555555',
      firstLba: 600000,
      lastLba: 700000,
      attributes: 0x8000000000000001n,
      name: 'Recovery',
    },
  ]);
  const { head, tail, tailOffset } = serializeGpt(disk);
  assert.equal(head.byteLength, 34 * 512);
  assert.equal(tailOffset + tail.byteLength, disk.totalSectors * 512);
  assert.equal(new TextDecoder().decode(head.subarray(512, 520)), 'EFI PART');
  assert.deepEqual(roundTrip(disk), disk);
});

const guid = fc.uuid().map((g) => g.toLowerCase());

const diskArb = fc
  .record({
    sectorSize: fc.constantFrom(512, 4096),
    totalSectors: fc.integer({ min: 200, max: 2 ** 40 }),
    diskGuid: guid,
    slots: fc.uniqueArray(fc.integer({ min: 1, max: 128 }), { maxLength: 6 }),
    parts: fc.array(
      fc.record({
        typeGuid: guid.filter((g) => g !== '00000000-0000-0000-0000-000000000000'),
        uniqueGuid: guid,
        a: fc.double({ min: 0, max: 1, noNaN: true }),
        b: fc.double({ min: 0, max: 1, noNaN: true }),
        attributes: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        name: fc.string({ maxLength: 36, unit: 'binary' }).filter((s) => !s.includes('\0') && s.length <= 36),
      }),
      { minLength: 6, maxLength: 6 },
    ),
  })
  .map(({ sectorSize, totalSectors, diskGuid, slots, parts }) => {
    const range = gptUsableRange(totalSectors, sectorSize);
    const span = range.lastUsableLba - range.firstUsableLba;
    const partitions = slots
      .sort((x, y) => x - y)
      .map((number, i): GptPartition => {
        const p = parts[i] ?? parts[0];
        if (p === undefined) throw new Error('unreachable');
        const lo = range.firstUsableLba + Math.floor(Math.min(p.a, p.b) * span);
        const hi = range.firstUsableLba + Math.floor(Math.max(p.a, p.b) * span);
        return {
          number,
          typeGuid: p.typeGuid,
          uniqueGuid: p.uniqueGuid,
          firstLba: lo,
          lastLba: hi,
          attributes: p.attributes,
          name: p.name,
        };
      });
    const disk: GptDisk = { sectorSize, totalSectors, diskGuid, entryCount: 128, ...range, partitions };
    return disk;
  });

test('parseGpt(serializeGpt(d)) is d', () => {
  fc.assert(
    fc.property(diskArb, (disk) => {
      assert.deepEqual(roundTrip(disk), disk);
    }),
    { numRuns: 200 },
  );
});

test('flipped bytes give the table or a FormatError, never another error', () => {
  const disk = diskOf(4096, [
    {
      number: 1,
      typeGuid: GPT_TYPES.BASIC_DATA,
      uniqueGuid: '31111111-2222-4333-8444-555555555555',
      firstLba: 100,
      lastLba: 3000,
      attributes: 0n,
      name: 'Basic data partition',
    },
  ]);
  const { head, tail } = serializeGpt(disk);
  fc.assert(
    fc.property(
      fc.array(fc.record({ inTail: fc.boolean(), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 8,
      }),
      (edits) => {
        const h = Uint8Array.from(head);
        const t = Uint8Array.from(tail);
        for (const e of edits) {
          const target = e.inTail ? t : h;
          target[e.at % target.length] = e.value;
        }
        try {
          parseGpt(h, t, disk.totalSectors);
        } catch (err) {
          assert.ok(err instanceof FormatError, String(err));
        }
      },
    ),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 20000 }),
      fc.uint8Array({ maxLength: 20000 }),
      fc.nat(),
      (h, t, n) => {
        try {
          parseGpt(h, t, n);
        } catch (err) {
          assert.ok(err instanceof FormatError, String(err));
        }
      },
    ),
  );
});

test('serializeGpt refuses partitions that overlap the tables', () => {
  const range = gptUsableRange(4096);
  const bad = diskOf(4096, [
    {
      number: 1,
      typeGuid: GPT_TYPES.BASIC_DATA,
      uniqueGuid: '31111111-2222-4333-8444-555555555555',
      firstLba: 1,
      lastLba: range.lastUsableLba,
      attributes: 0n,
      name: '',
    },
  ]);
  assert.throws(() => serializeGpt(bad), FormatError);
});
