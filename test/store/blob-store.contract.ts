// The BlobStore contract: one suite, run against every implementation (filesystem, S3) by
// blob-store.test.ts. A factory gives a fresh, empty store for each test and a way to dispose of it.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { suite, test } from 'node:test';
import type { Readable } from 'node:stream';
import { AppError } from '../../src/core/errors.ts';
import type { BlobInfo, BlobStore } from '../../src/store/blob-store.ts';

export interface BlobStoreFixture {
  readonly store: BlobStore;
  dispose(): Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of stream) parts.push(Buffer.from(piece as Uint8Array));
  return Buffer.concat(parts);
}

/** Equal bytes, compared without assert's diff (which is slow on large buffers). */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  assert.ok(Buffer.from(actual).equals(expected), `${what}: content differs`);
}

function key(bytes: Uint8Array): string {
  return `chunks/${createHash('sha256').update(bytes).digest('hex')}`;
}

function isCode(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof AppError && e.code === code;
}

export function runBlobStoreContract(name: string, newStore: () => Promise<BlobStoreFixture>): void {
  const withStore = async (fn: (store: BlobStore) => Promise<void>): Promise<void> => {
    const fixture = await newStore();
    try {
      await fn(fixture.store);
    } finally {
      await fixture.dispose();
    }
  };

  suite(`BlobStore contract: ${name}`, { timeout: 60_000 }, () => {
    test('put then get, has, size give back the same bytes', () =>
      withStore(async (store) => {
        const bytes = randomBytes(300_000);
        const k = key(bytes);
        assert.equal(await store.has(k), false);
        assert.equal(await store.size(k), null);
        await store.put(k, bytes);
        assert.equal(await store.has(k), true);
        assert.equal(await store.size(k), bytes.length);
        assertSameBytes(await store.get(k), bytes);
      }));

    test('put is idempotent and an empty blob is a blob', () =>
      withStore(async (store) => {
        const bytes = randomBytes(1000);
        await store.put(key(bytes), bytes);
        await store.put(key(bytes), bytes);
        assertSameBytes(await store.get(key(bytes)), bytes);
        await store.put('manifests/empty', new Uint8Array(0));
        assert.equal(await store.size('manifests/empty'), 0);
        assert.equal((await store.get('manifests/empty')).length, 0);
        assert.equal((await readAll(store.getStream('manifests/empty'))).length, 0);
      }));

    test('get and getStream of a missing blob fail with NOT_FOUND', () =>
      withStore(async (store) => {
        const k = key(new Uint8Array([1]));
        await assert.rejects(store.get(k), isCode('NOT_FOUND'));
        await assert.rejects(readAll(store.getStream(k)), isCode('NOT_FOUND'));
        await assert.rejects(readAll(store.getStream(k, { start: 0, end: 0 })), isCode('NOT_FOUND'));
      }));

    test('getStream gives the whole blob and exact ranges', () =>
      withStore(async (store) => {
        const bytes = randomBytes(200_003);
        const k = key(bytes);
        await store.put(k, bytes);
        assertSameBytes(await readAll(store.getStream(k)), bytes);
        for (const [start, end] of [
          [0, 0],
          [0, 199_999],
          [1, 1],
          [65_535, 131_072],
          [200_002, 200_002],
          [0, 200_002],
        ] as const) {
          assertSameBytes(
            await readAll(store.getStream(k, { start, end })),
            bytes.subarray(start, end + 1),
            `${start}-${end}`,
          );
        }
      }));

    test('a range outside the blob is refused with INVALID_ARGUMENT', () =>
      withStore(async (store) => {
        const bytes = randomBytes(100);
        const k = key(bytes);
        await store.put(k, bytes);
        await assert.rejects(
          readAll(store.getStream(k, { start: 50, end: 100 })),
          isCode('INVALID_ARGUMENT'),
        );
        await assert.rejects(readAll(store.getStream(k, { start: 10, end: 9 })), isCode('INVALID_ARGUMENT'));
      }));

    test('delete removes, and deleting a missing blob is harmless', () =>
      withStore(async (store) => {
        const bytes = randomBytes(10);
        const k = key(bytes);
        await store.put(k, bytes);
        await store.delete(k);
        assert.equal(await store.has(k), false);
        await store.delete(k);
        await assert.rejects(store.get(k), isCode('NOT_FOUND'));
      }));

    test('list and listInfo give the keys under a prefix with sizes and write times', () =>
      withStore(async (store) => {
        const before = Date.now() - 5_000;
        const chunks = Array.from({ length: 5 }, (_, i) => randomBytes(10 + i));
        for (const c of chunks) await store.put(key(c), c);
        await store.put('manifests/abcdef01', new Uint8Array([1, 2, 3]));
        const listed: string[] = [];
        for await (const k of store.list('chunks/')) listed.push(k);
        assert.deepEqual(listed.sort(), chunks.map(key).sort());
        const all: string[] = [];
        for await (const k of store.list('')) all.push(k);
        assert.equal(all.length, 6);
        const infos: BlobInfo[] = [];
        for await (const info of store.listInfo('manifests/')) infos.push(info);
        assert.equal(infos.length, 1);
        const [info] = infos;
        assert.equal(info?.key, 'manifests/abcdef01');
        assert.equal(info.size, 3);
        assert.ok(info.modifiedMs > before, 'write time is recent');
        const narrow: string[] = [];
        const first = chunks.map(key).sort()[0] ?? '';
        for await (const k of store.list(first.slice(0, 'chunks/'.length + 3))) narrow.push(k);
        assert.ok(narrow.includes(first));
        assert.ok(narrow.every((k) => k.startsWith(first.slice(0, 'chunks/'.length + 3))));
      }));

    test("keys with '..', control characters or leading dots are refused", () =>
      withStore(async (store) => {
        for (const bad of [
          '../etc/passwd',
          'chunks/../../x',
          'chunks/.hidden',
          'a\nbcd',
          '',
          'chunks/',
          'abc',
          '/abs/key',
        ]) {
          await assert.rejects(store.put(bad, new Uint8Array([1])), isCode('INVALID_ARGUMENT'), bad);
          await assert.rejects(store.has(bad), isCode('INVALID_ARGUMENT'), bad);
        }
      }));

    test('concurrent puts of the same key leave one whole blob', () =>
      withStore(async (store) => {
        const bytes = randomBytes(500_000);
        const k = key(bytes);
        await Promise.all(Array.from({ length: 8 }, () => store.put(k, bytes)));
        assertSameBytes(await store.get(k), bytes);
        const listed: string[] = [];
        for await (const x of store.list('chunks/')) listed.push(x);
        assert.deepEqual(listed, [k]);
      }));
  });
}
