// Fuzzes the BCD store reader: mutated copies of real and generated stores must each read to a
// value or fail with a FormatError (or the regf library's HIVE_DIRTY), never anything else.
//
//   node bench/fuzz-bcd.ts [cases=100000] [seed=1]
//
// Half the cases mutate the hive file's bytes (flips, random bytes, zeroed runs, truncation) in its
// cells; the other half replace one element's registry value (type and bytes) through the regf
// library, so the BCD codecs see hostile element data behind a valid hive. Every store that reads
// is walked in full: every object, every element decoded, re-encoded, and devices re-decoded.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAppError } from '../src/core/errors.ts';
import { Hive } from '../src/formats/regf/index.ts';
import {
  BcdStore,
  createBootStore,
  decodeDevice,
  encodeDevice,
  encodeElement,
} from '../src/formats/bcd/index.ts';

const cases = Number(process.argv[2] ?? 100_000);
let state = Number(process.argv[3] ?? 1) >>> 0 || 1;

/** xorshift32: a small deterministic generator, so a failing case can be found again from the seed. */
function rand(n: number): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state % n;
}

const FIXTURE = fileURLToPath(new URL('../../shared/fixtures/real/bcd/uefi-bcdboot.BCD', import.meta.url));
const seeds: Uint8Array[] = [];
try {
  seeds.push(new Uint8Array(readFileSync(FIXTURE)));
} catch {
  console.error(`note: ${FIXTURE} is absent; fuzzing generated stores only`);
}
const clock = (): bigint => 0n;
seeds.push(
  createBootStore({
    firmware: 'uefi',
    disk: {
      style: 'gpt',
      diskGuid: '{d148fb7c-be81-4d12-8dcf-62260299abde}',
      systemPartitionGuid: '{236538dd-1103-424b-80ef-c54841d0a445}',
      windowsPartitionGuid: '{ecd43012-88cf-4f80-a8de-8d3719d0653a}',
    },
    loaderId: '{11111111-1111-1111-1111-111111111111}',
    resumeId: '{22222222-2222-2222-2222-222222222222}',
    clock,
  }).store.serialize(),
  createBootStore({
    firmware: 'bios',
    disk: {
      style: 'mbr',
      diskSignature: '1a2b3c4d',
      systemPartitionOffset: 1048576,
      windowsPartitionOffset: 525336576,
    },
    loaderId: '{11111111-1111-1111-1111-111111111111}',
    resumeId: '{22222222-2222-2222-2222-222222222222}',
    clock,
  }).store.serialize(),
);

function mutateBytes(seed: Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(seed);
  const edits = 1 + rand(8);
  for (let i = 0; i < edits; i++) {
    // Mostly inside the hive bins (past the 4 KiB base block), where the keys and values are.
    const at = rand(10) === 0 ? rand(bytes.length) : 4096 + rand(bytes.length - 4096);
    switch (rand(4)) {
      case 0:
        bytes[at] = (bytes[at] ?? 0) ^ (1 << rand(8));
        break;
      case 1:
        bytes[at] = rand(256);
        break;
      case 2:
        bytes.fill(rand(2) === 0 ? 0 : 0xff, at, at + 1 + rand(16));
        break;
      default:
        bytes[at] = [0, 1, 0x7f, 0x80, 0xff][rand(5)] ?? 0;
    }
  }
  return rand(20) === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes;
}

/** A valid hive whose one element value has hostile type and bytes. */
function mutateElement(seed: Uint8Array): Uint8Array {
  const hive = Hive.parse(seed);
  const objects = hive.getKey('Objects')?.subkeys() ?? [];
  const object = objects[rand(objects.length)];
  const elements = object?.subkey('Elements')?.subkeys() ?? [];
  const element = elements[rand(Math.max(1, elements.length))];
  if (element === undefined) return seed;
  const old = element.value('Element');
  let data: Uint8Array;
  if (old !== undefined && rand(2) === 0) {
    data = Uint8Array.from(old.data);
    for (let i = 0, n = 1 + rand(4); i < n && data.length > 0; i++) data[rand(data.length)] = rand(256);
    if (rand(4) === 0) data = data.subarray(0, rand(data.length + 1));
  } else {
    data = Uint8Array.from({ length: rand(300) }, () => rand(256));
  }
  const type = rand(4) === 0 ? rand(12) : (old?.type ?? 3);
  element.setValue('Element', type, data);
  if (rand(8) === 0)
    object?.subkey('Description')?.setValue(
      'Type',
      rand(12),
      Uint8Array.from({ length: rand(8) }, () => rand(256)),
    );
  return hive.serialize();
}

const outcomes = new Map<string, number>();
const count = (k: string): void => {
  outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
};
let crashes = 0;
let elements = 0;
const started = performance.now();
for (let i = 0; i < cases; i++) {
  const seed = seeds[i % seeds.length] ?? new Uint8Array();
  const structured = i % 2 === 1;
  let input: Uint8Array;
  try {
    input = structured ? mutateElement(seed) : mutateBytes(seed);
  } catch (e) {
    console.error(`case ${i}: building the input failed: ${String(e)}`);
    crashes++;
    continue;
  }
  try {
    const store = BcdStore.parse(input);
    for (const o of store.objects()) {
      for (const e of o.elements) {
        elements++;
        encodeElement(e.type, e.value);
        if (e.value.format === 'device') decodeDevice(encodeDevice(e.value.value));
      }
    }
    count(structured ? 'element: read' : 'bytes: read');
  } catch (e) {
    if (isAppError(e) && (e.name === 'FormatError' || e.code === 'HIVE_DIRTY')) {
      count(`${structured ? 'element' : 'bytes'}: ${e.code}`);
    } else {
      crashes++;
      if (crashes <= 10)
        console.error(
          `case ${i} (seed state ${state}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        );
    }
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `${cases} cases in ${seconds.toFixed(1)} s (${Math.round(cases / seconds)}/s), ${elements} elements decoded`,
);
for (const [k, v] of [...outcomes].sort()) console.log(`  ${k}: ${v}`);
console.log(`  other errors (bugs): ${crashes}`);
process.exitCode = crashes === 0 ? 0 : 1;
