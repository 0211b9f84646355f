import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { CONTENT_BLOCK, createContentGenerator, type ContentSpec } from './content.ts';

function whole(spec: ContentSpec, seed = 1): Uint8Array {
  const out = new Uint8Array(spec.size);
  createContentGenerator(seed).read(spec, 0, out);
  return out;
}

test('content is a function of the spec: same spec, same bytes; another seed, other bytes', () => {
  const spec: ContentSpec = { size: 300_000, mix: 'binary', contentSeed: 9 };
  assert.deepEqual(whole(spec), whole(spec));
  assert.notDeepEqual(whole(spec), whole({ ...spec, contentSeed: 10 }));
});

test('reading in pieces at any offsets gives the same bytes as reading whole', () => {
  const spec: ContentSpec = {
    size: 3 * CONTENT_BLOCK + 1234,
    mix: 'binary',
    contentSeed: 3,
    variant: { seed: 77, prefix: 101, mutateOneIn: 2 },
  };
  const expected = whole(spec);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: spec.size }), { maxLength: 8 }), (cuts) => {
      const points = [...new Set([0, ...cuts, spec.size])].sort((a, b) => a - b);
      const generator = createContentGenerator(1);
      const got = new Uint8Array(spec.size);
      // Read the pieces out of order, so no state carries from one to the next.
      for (let i = points.length - 2; i >= 0; i--) {
        const from = points[i] ?? 0;
        const to = points[i + 1] ?? 0;
        generator.read(spec, from, got.subarray(from, to));
      }
      assert.deepEqual(got, expected);
    }),
    { numRuns: 30 },
  );
});

test('manifests compress well, binaries moderately, catalogs hardly', () => {
  const ratio = (mix: ContentSpec['mix']): number => {
    const bytes = whole({ size: 16 * CONTENT_BLOCK, mix, contentSeed: 5 });
    return deflateRawSync(bytes).length / bytes.length;
  };
  const manifest = ratio('manifest');
  const binary = ratio('binary');
  const catalog = ratio('catalog');
  assert.ok(manifest < 0.3, `manifest ${manifest}`);
  assert.ok(binary > 0.3 && binary < 0.85, `binary ${binary}`);
  assert.ok(catalog > 0.9, `catalog ${catalog}`);
});

test('a variant shares most blocks of its base after its version stamp, shifted by the stamp', () => {
  const size = 32 * CONTENT_BLOCK;
  const base = whole({ size, mix: 'binary', contentSeed: 11 });
  const prefix = 100;
  const variant = whole({
    size,
    mix: 'binary',
    contentSeed: 11,
    variant: { seed: 99, prefix, mutateOneIn: 6 },
  });
  assert.notDeepEqual(variant.subarray(0, size), base);
  assert.match(new TextDecoder().decode(variant.subarray(0, prefix)), /^winsmith sample: version/);
  const digest = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');
  const baseBlocks = new Set<string>();
  for (let i = 0; i + CONTENT_BLOCK <= size; i += CONTENT_BLOCK)
    baseBlocks.add(digest(base.subarray(i, i + CONTENT_BLOCK)));
  let shared = 0;
  let total = 0;
  for (let i = prefix; i + CONTENT_BLOCK <= size; i += CONTENT_BLOCK) {
    total += 1;
    if (baseBlocks.has(digest(variant.subarray(i, i + CONTENT_BLOCK)))) shared += 1;
  }
  assert.ok(shared >= total * 0.6 && shared < total, `${shared} of ${total} blocks shared`);
});

test('generation is fast: over 60 MB/s of binary content even on a busy machine (about 270 MB/s measured idle)', () => {
  const generator = createContentGenerator(1);
  const buffer = new Uint8Array(1 << 20);
  const start = performance.now();
  for (let i = 0; i < 64; i++) generator.read({ size: 1 << 20, mix: 'binary', contentSeed: i }, 0, buffer);
  const seconds = (performance.now() - start) / 1000;
  const rate = (64 * (1 << 20)) / seconds / 1e6;
  assert.ok(rate > 60, `${rate.toFixed(0)} MB/s`);
});
