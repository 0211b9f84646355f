// Fuzz the regf reader (and its transaction log replay) with mutated real hives: bit flips, byte
// runs, truncation, size/count/offset field edits. Every case must end in a hive or a FormatError
// (or HIVE_DIRTY for a hive whose logs do not apply) within 1 s of CPU time; anything else fails
// the run.
//
//   node bench/fuzz-regf.ts [cases=100000] [seed=1]
//   node bench/fuzz-regf.ts replay CASE_SEED      (one case again, as printed on a failure)
//
// Prints cases/second and the count of each outcome; exits 1 on a bad outcome (printing the seed of
// the case so it can be replayed), 2 when the real fixtures are absent.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BB, baseBlockChecksum, writeU32 } from '../src/formats/regf/layout.ts';
import { REAL_FIXTURES } from '../test/helpers/fixtures.ts';
import { cellOffsets, mutate, rng, runCase } from '../test/regf/mutate.ts';

const cases = process.argv[2] === 'replay' ? 1 : Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? 1);
const SLOW_MS = 1000;

interface Target {
  readonly name: string;
  readonly weight: number;
  readonly hive: Uint8Array;
  readonly cells: number[];
  /** For the log target: the log mutated instead of the hive. */
  readonly log?: Uint8Array;
}

function load(relative: string): Uint8Array | undefined {
  const path = join(REAL_FIXTURES, relative);
  return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
}

const targets: Target[] = [];
for (const [relative, weight] of [
  ['bcd/uefi-bcdboot.BCD', 40],
  ['hives/SAM', 25],
  ['hives/NTUSER.DAT', 15],
  ['hives/UsrClass.dat', 2],
] as const) {
  const hive = load(relative);
  if (hive) targets.push({ name: relative, weight, hive, cells: cellOffsets(hive) });
}
const ntuser = load('hives/NTUSER.DAT');
const ntuserLog = load('hives/NTUSER.DAT.LOG');
if (ntuser && ntuserLog) {
  // NTUSER.DAT rolled back to the middle of writing sequence 0x83, so its real log is replayed.
  const dirty = ntuser.slice();
  writeU32(dirty, BB.secondarySeq, 0x83);
  writeU32(dirty, BB.checksum, baseBlockChecksum(dirty));
  targets.push({
    name: 'hives/NTUSER.DAT.LOG (replayed)',
    weight: 18,
    hive: dirty,
    cells: [],
    log: ntuserLog,
  });
}
if (targets.length === 0) {
  console.error(`no real fixtures under ${REAL_FIXTURES}`);
  process.exit(2);
}
const totalWeight = targets.reduce((n, t) => n + t.weight, 0);

/** One case, fully determined by its seed. */
function runOne(caseSeed: number): { target: Target; outcome: string; ms: number } {
  const next = rng(caseSeed);
  let pick = next(totalWeight);
  const target = targets.find((t) => (pick -= t.weight) < 0) ?? targets[0];
  if (target === undefined) throw new Error('no fuzz target');
  const fixChecksum = next(4) !== 0;
  const write = next(20) === 0;
  let hive = target.hive;
  let logs: Uint8Array[] = [];
  if (target.log) logs = [mutate(target.log, [], next, false).bytes];
  else hive = mutate(target.hive, target.cells, next, fixChecksum).bytes;
  // CPU time, not wall time: the machines running this are shared, and a hang shows either way.
  const t0 = process.cpuUsage();
  try {
    const outcome = runCase(hive, logs, write);
    const used = process.cpuUsage(t0);
    return { target, outcome, ms: (used.user + used.system) / 1000 };
  } catch (e) {
    console.error(`case seed ${caseSeed} (${target.name}): unexpected exception`);
    console.error(e);
    process.exit(1);
  }
}

if (process.argv[2] === 'replay') {
  const { target, outcome, ms } = runOne(seed);
  console.log(`case seed ${seed} (${target.name}): ${outcome} in ${ms.toFixed(0)} ms`);
  process.exit(ms > SLOW_MS ? 1 : 0);
}

const outcomes = new Map<string, number>();
let slowest = 0;
const started = performance.now();
for (let i = 0; i < cases; i++) {
  const caseSeed = (seed * 1_000_003 + i) >>> 0;
  const { target, outcome, ms } = runOne(caseSeed);
  slowest = Math.max(slowest, ms);
  if (ms > SLOW_MS) {
    console.error(
      `case ${i} (seed ${caseSeed}, ${target.name}) took ${ms.toFixed(0)} ms (limit ${SLOW_MS} ms)`,
    );
    console.error(`replay it with: node bench/fuzz-regf.ts replay ${caseSeed}`);
    process.exit(1);
  }
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  if ((i + 1) % 10_000 === 0) {
    const s = (performance.now() - started) / 1000;
    console.error(`${i + 1} cases, ${((i + 1) / s).toFixed(0)} cases/s`);
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `regf fuzz: ${cases} cases in ${seconds.toFixed(1)} s, ${(cases / seconds).toFixed(0)} cases/s, slowest ${slowest.toFixed(0)} ms`,
);
console.log(`targets: ${targets.map((t) => `${t.name} (weight ${t.weight})`).join(', ')}`);
for (const [outcome, n] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`  ${outcome}: ${n}`);
