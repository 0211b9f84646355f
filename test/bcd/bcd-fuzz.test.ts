// Hostile stores: mutated copies of the real bcdboot store, and valid hives with hostile element
// values, read to a value or a FormatError (or regf's HIVE_DIRTY) and nothing else.
// bench/fuzz-bcd.ts runs the same idea over 100,000+ cases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { isAppError } from '../../src/core/errors.ts';
import { Hive } from '../../src/formats/regf/index.ts';
import { BcdStore, encodeElement } from '../../src/formats/bcd/index.ts';
import { realFixture } from '../helpers/fixtures.ts';

const fixture = realFixture('bcd/uefi-bcdboot.BCD');

function readsOrFailsCleanly(bytes: Uint8Array): void {
  try {
    for (const o of BcdStore.parse(bytes).objects())
      for (const e of o.elements) encodeElement(e.type, e.value);
  } catch (e) {
    assert.ok(isAppError(e) && (e.name === 'FormatError' || e.code === 'HIVE_DIRTY'), String(e));
  }
}

test(
  'property: mutated bytes of the real store read or fail with a FormatError',
  { skip: fixture.skip },
  async () => {
    const base = new Uint8Array(await readFile(fixture.path));
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 4096, max: base.length - 1 }), fc.integer({ min: 0, max: 255 })),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.option(fc.integer({ min: 0, max: base.length }), { freq: 10 }),
        (edits, cut) => {
          const bytes = Uint8Array.from(base);
          for (const [at, v] of edits) bytes[at] = v;
          readsOrFailsCleanly(cut === null ? bytes : bytes.subarray(0, cut));
        },
      ),
      { numRuns: 150 },
    );
  },
);

test(
  'property: hostile element values behind a valid hive read or fail with a FormatError',
  { skip: fixture.skip },
  async () => {
    const base = new Uint8Array(await readFile(fixture.path));
    const paths: string[] = [];
    const hive = Hive.parse(base);
    for (const o of hive.getKey('Objects')?.subkeys() ?? []) {
      for (const e of o.subkey('Elements')?.subkeys() ?? []) paths.push(e.path);
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        fc.integer({ min: 0, max: 11 }),
        fc.uint8Array({ maxLength: 260 }),
        (path, type, data) => {
          const h = Hive.parse(base);
          h.getKey(path)?.setValue('Element', type, data);
          readsOrFailsCleanly(h.serialize());
        },
      ),
      { numRuns: 100 },
    );
  },
);
