import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { planPadding } from './padding.ts';

test('the plan adds up to exactly the bytes asked for, with unique paths in the component store', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 64 * 1024 * 1024 }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      (bytes, seed) => {
        const files = planPadding(bytes, seed);
        assert.equal(
          files.reduce((sum, f) => sum + f.size, 0),
          bytes,
        );
        const paths = files.map((f) => f.path.toLowerCase());
        assert.equal(new Set(paths).size, paths.length);
        for (const f of files) {
          assert.ok(f.size > 0);
          assert.match(f.path, /^Windows\\(WinSxS|System32\\CatRoot)\\/);
        }
      },
    ),
    { numRuns: 25 },
  );
});

test('the plan is deterministic in its seed', () => {
  assert.deepEqual(planPadding(10_000_000, 4), planPadding(10_000_000, 4));
  assert.notDeepEqual(planPadding(10_000_000, 4), planPadding(10_000_000, 5));
});

test('a large plan has a spread of sizes, manifests, catalogs and versions of earlier files', () => {
  const files = planPadding(512 * 1024 * 1024, 1);
  const small = files.filter((f) => f.size < 16 * 1024).length;
  const large = files.filter((f) => f.size > 1024 * 1024).length;
  assert.ok(small > files.length / 4, `${small} small of ${files.length}`);
  assert.ok(large > 10, `${large} large`);
  assert.ok(files.some((f) => f.mix === 'manifest' && f.path.endsWith('.manifest')));
  assert.ok(files.some((f) => f.mix === 'catalog' && f.path.endsWith('.cat')));
  const variants = files.filter((f) => f.variant !== undefined);
  assert.ok(variants.length > files.length / 20, `${variants.length} variants`);
  for (const v of variants) assert.ok(files.some((f) => f !== v && f.contentSeed === v.contentSeed));
});
