// The stress hive: 5,000 keys and 50,000 values of 1 byte to 1 MiB, then deletes and re-adds of keys
// and values in an order fast-check draws, on a hive read back from our own output. The result is
// checked against a model with both readers: ours and hivexregedit --export.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { withTempDir } from '../../src/io/output.ts';
import { Hive } from '../../src/formats/regf/index.ts';
import { dumpKey, exportWithHivex, firstDifference, type Dump } from './hivex-dump.ts';

const KEYS = 5000;
const VALUES = Number(process.env.STRESS_VALUES ?? 50_000);
const MIB = 1024 * 1024;

/** Mostly small values, as in real hives, with a few large ones; the extremes are added explicitly. */
const valueSize = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 64 }), weight: 9700 },
  { arbitrary: fc.integer({ min: 65, max: 4096 }), weight: 250 },
  { arbitrary: fc.integer({ min: 4097, max: 65_536 }), weight: 45 },
  { arbitrary: fc.integer({ min: 65_537, max: MIB }), weight: 5 },
);
const valueType = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), fc.constant(0x20000));

const change = fc.oneof(
  fc.record({ kind: fc.constant('deleteKey' as const), key: fc.nat(KEYS - 1) }),
  fc.record({ kind: fc.constant('deleteValue' as const), key: fc.nat(KEYS - 1), value: fc.nat(9) }),
  fc.record({
    kind: fc.constant('setValue' as const),
    key: fc.nat(KEYS - 1),
    value: fc.nat(12),
    size: valueSize,
    type: valueType,
  }),
  fc.record({ kind: fc.constant('readdKey' as const), key: fc.nat(KEYS - 1) }),
);

/** Key i: 50 top-level keys, 10 below each, 10 below those (5,000 in all); a few non-ASCII names. */
function keyPath(i: number): string {
  const top = `Top${i % 50}${i % 50 === 7 ? 'é' : ''}`;
  const mid = `Mid${Math.floor(i / 50) % 10}${i % 97 === 3 ? 'Ж' : ''}`;
  return `${top}\\${mid}\\Leaf${i}`;
}

/** What the hive must hold, kept apart from the library with plain maps (names compared upper-cased). */
class Model {
  private readonly keys = new Map<
    string,
    { path: string; values: Map<string, { name: string; type: number; data: Uint8Array }> }
  >([['\\', { path: '\\', values: new Map() }]]);

  ensureKey(path: string): Map<string, { name: string; type: number; data: Uint8Array }> {
    let entry = this.keys.get('\\');
    let upper = '';
    for (const part of path.split('\\')) {
      upper += `\\${part.toUpperCase()}`;
      let child = this.keys.get(upper);
      if (child === undefined) {
        child = { path: `${entry?.path === '\\' ? '' : (entry?.path ?? '')}\\${part}`, values: new Map() };
        this.keys.set(upper, child);
      }
      entry = child;
    }
    if (entry === undefined) throw new Error('no root');
    return entry.values;
  }

  deleteKey(path: string): void {
    const upper = `\\${path.toUpperCase()}`;
    for (const k of [...this.keys.keys()]) if (k === upper || k.startsWith(`${upper}\\`)) this.keys.delete(k);
  }

  setValue(path: string, name: string, type: number, bytes: Uint8Array): void {
    const values = this.ensureKey(path);
    const old = values.get(name.toUpperCase());
    values.set(name.toUpperCase(), { name: old?.name ?? name, type, data: bytes });
  }

  deleteValue(path: string, name: string): void {
    this.keys.get(`\\${path.toUpperCase()}`)?.values.delete(name.toUpperCase());
  }

  dump(): Dump {
    const out: Dump = new Map();
    for (const { path, values } of this.keys.values()) {
      out.set(
        path,
        new Map(
          [...values.values()].map((v) => [
            v.name,
            { type: v.type, hex: Buffer.from(v.data).toString('hex') },
          ]),
        ),
      );
    }
    return out;
  }
}

function data(size: number, salt: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + salt) & 0xff;
  return out;
}

test('stress hive: 5,000 keys, 50,000 values of 1 B to 1 MiB, deletes and re-adds; ours and hivex read the model', async () => {
  const started = performance.now();
  const [sizes, types, changes] = fc.sample(
    fc.tuple(
      fc.array(valueSize, { minLength: VALUES, maxLength: VALUES }),
      fc.array(valueType, { minLength: VALUES, maxLength: VALUES }),
      fc.array(change, { minLength: 3000, maxLength: 3000 }),
    ),
    { numRuns: 1, seed: 20261123 },
  )[0] ?? [[], [], []];
  // The extremes: 1 byte, 4 and 5 bytes (inline or not), a full big data segment and one past it, 1 MiB.
  [1, 4, 5, 16_344, 16_345, MIB].forEach((size, i) => (sizes[i * 997] = size));

  const hive = Hive.create('STRESS', { clock: () => 133_000_000_000_000_000n });
  const expected = new Model();
  for (let i = 0; i < KEYS; i++) {
    const key = hive.ensureKey(keyPath(i));
    for (let j = 0; j < VALUES / KEYS; j++) {
      const n = i * (VALUES / KEYS) + j;
      const bytes = data(sizes[n] ?? 1, n);
      key.setValue(j === 0 ? '' : `v${j}`, types[n] ?? 3, bytes);
      expected.setValue(keyPath(i), j === 0 ? '' : `v${j}`, types[n] ?? 3, bytes);
    }
  }
  const first = hive.serialize();
  const built = performance.now();

  const edited = Hive.parse(first, { clock: () => 133_000_000_000_000_001n });
  for (const c of changes) {
    const path = keyPath(c.key);
    const name =
      c.kind === 'deleteValue' || c.kind === 'setValue' ? (c.value === 0 ? '' : `v${c.value}`) : '';
    if (c.kind === 'deleteKey') {
      edited.deleteKey(path);
      expected.deleteKey(path);
    } else if (c.kind === 'readdKey') {
      edited.ensureKey(path);
      expected.ensureKey(path);
    } else if (c.kind === 'deleteValue') {
      // Upper-cased on purpose: names are case-insensitive.
      edited.getKey(path)?.deleteValue(name.toUpperCase());
      expected.deleteValue(path, name);
    } else {
      const bytes = data(c.size, c.key);
      edited.ensureKey(path).setValue(name, c.type, bytes);
      expected.setValue(path, name, c.type, bytes);
    }
  }
  for (const [name, size] of [
    ['one', 1],
    ['mib', MIB],
  ] as const) {
    edited.ensureKey('Extremes').setValue(name, 3, data(size, 2));
    expected.setValue('Extremes', name, 3, data(size, 2));
  }
  const model = expected.dump();
  assert.equal(firstDifference(dumpKey(edited.root), model), undefined);
  const valueCount = [...model.values()].reduce((n, v) => n + v.size, 0);
  assert.ok(model.size > 4000 && valueCount > 40_000, `${model.size} keys, ${valueCount} values`);
  const bytes = edited.serialize();

  const ours = dumpKey(Hive.parse(bytes).root);
  assert.equal(firstDifference(ours, model), undefined);
  const biggest = Math.max(
    ...[...model.values()].flatMap((v) => [...v.values()].map((d) => d.hex.length / 2)),
  );
  assert.equal(biggest, MIB);

  await withTempDir(async (dir) => {
    const path = join(dir, 'stress.hive');
    await writeFile(path, bytes);
    const theirs = await exportWithHivex(path);
    assert.equal(firstDifference(theirs, model), undefined);
  });
  const done = performance.now();
  // Recorded in the test output (measured: see the report in docs/registry.md).
  console.log(
    `stress hive: ${model.size} keys, ${valueCount} values, ${(bytes.length / MIB).toFixed(1)} MiB; ` +
      `build+write ${((built - started) / 1000).toFixed(1)} s, total ${((done - started) / 1000).toFixed(1)} s`,
  );
});
