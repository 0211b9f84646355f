// Mutated real hives (and a mutated real transaction log being replayed) give a hive or a
// FormatError — never a RangeError, a crash or a hang. bench/fuzz-regf.ts runs the same cases by
// the hundred thousand; this keeps a few thousand in the suite.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BB, baseBlockChecksum, writeU32 } from '../../src/formats/regf/layout.ts';
import { realFixture } from '../helpers/fixtures.ts';
import { cellOffsets, mutate, rng, runCase } from './mutate.ts';

const CASES = 1500;

for (const [name, cases] of [
  ['bcd/uefi-bcdboot.BCD', CASES],
  ['hives/SAM', CASES],
  ['hives/NTUSER.DAT', 300],
] as const) {
  const fixture = realFixture(name);
  test(
    `${name} mutated ${cases} times: a hive or a FormatError, each within 1 s`,
    { skip: fixture.skip },
    async () => {
      const hive = new Uint8Array(await readFile(fixture.path));
      const cells = cellOffsets(hive);
      assert.ok(cells.length > 50, `${cells.length} cells found`);
      const outcomes = new Map<string, number>();
      for (let i = 0; i < cases; i++) {
        const next = rng(i + 7);
        const { bytes } = mutate(hive, cells, next, next(4) !== 0);
        const t0 = performance.now();
        const outcome = runCase(bytes, [], next(10) === 0);
        assert.ok(performance.now() - t0 < 1000, `case ${i} took more than 1 s`);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      // The mutations reach past the first check: both outcomes occur.
      assert.ok(
        (outcomes.get('ok') ?? 0) > 0 && (outcomes.get('FORMAT_INVALID') ?? 0) > 0,
        JSON.stringify([...outcomes]),
      );
    },
  );
}

const ntuser = realFixture('hives/NTUSER.DAT');
const ntuserLog = realFixture('hives/NTUSER.DAT.LOG');

test(
  'a dirty NTUSER.DAT with its real log mutated: recovered, or HIVE_DIRTY, or a FormatError',
  { skip: ntuser.skip || ntuserLog.skip },
  async () => {
    const dirty = new Uint8Array(await readFile(ntuser.path));
    writeU32(dirty, BB.secondarySeq, 0x83);
    writeU32(dirty, BB.checksum, baseBlockChecksum(dirty));
    const log = new Uint8Array(await readFile(ntuserLog.path));
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const next = rng(i + 99);
      const outcome = runCase(dirty, [mutate(log, [], next, false).bytes], false);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    assert.ok(
      (outcomes.get('ok') ?? 0) > 0 && (outcomes.get('HIVE_DIRTY') ?? 0) > 0,
      JSON.stringify([...outcomes]),
    );
  },
);
