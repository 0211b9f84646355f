import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../core/errors.ts';
import {
  manifestDigest,
  MAX_CHUNK_BYTES,
  parseManifest,
  serializeManifest,
  validateManifest,
  type Manifest,
} from './manifest.ts';

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

const manifestArb: fc.Arbitrary<Manifest> = fc
  .record({
    mediaType: fc.constantFrom(
      'application/x-wim',
      'application/x-iso9660-image',
      'application/octet-stream',
    ),
    sha256: hex64,
    chunks: fc.array(fc.record({ digest: hex64, size: fc.integer({ min: 1, max: MAX_CHUNK_BYTES }) }), {
      maxLength: 20,
    }),
  })
  .map((m) => ({
    schemaVersion: 1,
    mediaType: m.mediaType,
    size: m.chunks.reduce((s, c) => s + c.size, 0),
    sha256: m.sha256,
    chunks: m.chunks.map((c) => ({ digest: c.digest, size: c.size })),
  }));

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

const SAMPLE: Manifest = {
  schemaVersion: 1,
  mediaType: 'application/x-wim',
  size: 5,
  sha256: 'a'.repeat(64),
  chunks: [
    { digest: 'b'.repeat(64), size: 3 },
    { digest: 'c'.repeat(64), size: 2 },
  ],
};

function formatError(pattern: RegExp, code = 'FORMAT_INVALID'): (e: unknown) => boolean {
  return (e: unknown) => e instanceof FormatError && e.code === code && pattern.test(e.message);
}

test('canonical bytes: fixed key order, no spaces; the digest is their SHA-256', () => {
  const bytes = serializeManifest(SAMPLE);
  assert.equal(
    new TextDecoder().decode(bytes),
    `{"schemaVersion":1,"mediaType":"application/x-wim","size":5,"sha256":"${'a'.repeat(64)}",` +
      `"chunks":[{"digest":"${'b'.repeat(64)}","size":3},{"digest":"${'c'.repeat(64)}","size":2}]}`,
  );
  assert.equal(manifestDigest(SAMPLE), createHash('sha256').update(bytes).digest('hex'));
});

test('parse(serialize(m)) is m, and serialize is stable', () => {
  fc.assert(
    fc.property(manifestArb, (m) => {
      const bytes = serializeManifest(m);
      const parsed = parseManifest(bytes);
      assert.deepEqual(parsed, m);
      assert.deepEqual(serializeManifest(parsed), bytes);
    }),
    { numRuns: 200 },
  );
});

test('JSON that means the same but is not canonical is refused (one manifest, one digest)', () => {
  const canonical = new TextDecoder().decode(serializeManifest(SAMPLE));
  for (const variant of [
    JSON.stringify(SAMPLE, null, 2),
    canonical.replace('{"schemaVersion":1,', '{ "schemaVersion":1,'),
    canonical.replace('"size":5', '"size":5.0'),
    `${canonical}\n`,
  ]) {
    assert.throws(() => parseManifest(text(variant)), formatError(/canonical/), variant);
  }
});

test('malformed manifests name the field at fault', () => {
  const cases: [unknown, RegExp, string?][] = [
    [[], /not a JSON object/],
    [{ ...SAMPLE, schemaVersion: 2 }, /schemaVersion is 2/, 'FORMAT_UNSUPPORTED'],
    [{ ...SAMPLE, mediaType: 'WIM' }, /mediaType/],
    [{ ...SAMPLE, size: -1 }, /manifest size/],
    [{ ...SAMPLE, size: 6 }, /add up to 5 bytes, expected the manifest size 6/],
    [{ ...SAMPLE, sha256: 'A'.repeat(64) }, /manifest sha256/],
    [{ ...SAMPLE, chunks: {} }, /chunks is not an array/],
    [{ ...SAMPLE, chunks: [{ digest: 'b'.repeat(63), size: 5 }] }, /chunks\[0\]\.digest/],
    [{ ...SAMPLE, size: 0, chunks: [{ digest: 'b'.repeat(64), size: 0 }] }, /chunks\[0\]\.size is 0/],
    [
      {
        ...SAMPLE,
        size: MAX_CHUNK_BYTES + 1,
        chunks: [{ digest: 'b'.repeat(64), size: MAX_CHUNK_BYTES + 1 }],
      },
      /chunks\[0\]\.size/,
      'LIMIT_EXCEEDED',
    ],
    [{ ...SAMPLE, extra: 1 }, /has keys/],
    [{ ...SAMPLE, chunks: [{ size: 5, digest: 'b'.repeat(64) }], size: 5 }, /chunks\[0\] has keys/],
  ];
  for (const [value, pattern, code] of cases) {
    assert.throws(() => validateManifest(value), formatError(pattern, code), pattern.source);
  }
  assert.throws(() => parseManifest(text('{"schemaVersion":1,')), formatError(/not UTF-8 JSON/));
  assert.throws(() => parseManifest(new Uint8Array([0xff, 0xfe])), formatError(/not UTF-8 JSON/));
});

test('arbitrary or mutated bytes give a manifest or a FormatError, nothing else', () => {
  fc.assert(
    fc.property(
      manifestArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      (m, edits) => {
        const bytes = serializeManifest(m).slice();
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        try {
          parseManifest(bytes);
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
      },
    ),
    { numRuns: 500 },
  );
});
