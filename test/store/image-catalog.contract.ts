// The images' store (artifacts, tags, uploads, chunk references, listings, stats), the same on
// every database winsmith supports: test/db/ runs it on SQLite and on PostgreSQL.

import assert from 'node:assert/strict';
import { ImageCatalog, type NewArtifact } from '../../src/store/image-catalog.ts';
import { hasCode, hex, type StoreTest } from '../db/store-fixture.ts';

function artifact(c: string, extra: Partial<NewArtifact> = {}): NewArtifact {
  return { digest: hex(c), mediaType: 'application/x-wim', size: 1000, sha256: hex('f'), ...extra };
}

export function imageCatalogContract(storeTest: StoreTest): void {
  storeTest('migrations are idempotent and data survives a reopen', async ({ images, reopen }) => {
    await images.putArtifact(artifact('a'));
    const again = await reopen();
    try {
      assert.equal((await new ImageCatalog(again).getArtifact(hex('a')))?.size, 1000);
    } finally {
      await again.close();
    }
  });

  storeTest('artifacts round-trip every field and keep their first record', async ({ images }) => {
    const full: NewArtifact = {
      digest: hex('a'),
      mediaType: 'application/x-wim',
      size: 5 * 2 ** 40,
      sha256: hex('b'),
      editions: [{ index: 1, name: 'Windows Server 2022 SERVERSTANDARD', build: 20348 }],
      pushedBy: 'alice',
      pushedAt: '2026-01-02T03:04:05.000Z',
      parentDigest: hex('c'),
      recipe: { steps: [{ files: { add: 'x' } }] },
      sourceIsoSha256: hex('d'),
    };
    const stored = await images.putArtifact(full);
    assert.deepEqual(stored, { ...full });
    const second = await images.putArtifact({ ...full, pushedBy: 'mallory', size: 1 });
    assert.equal(second.pushedBy, 'alice');
    assert.equal(second.size, 5 * 2 ** 40);
    assert.deepEqual(await images.getArtifact(hex('a')), stored);
    assert.equal(await images.getArtifact(hex('e')), undefined);
    const child = await images.putArtifact(artifact('e', { parentDigest: hex('a') }));
    assert.deepEqual(await images.listChildren(hex('a')), [child]);
    assert.deepEqual((await images.listArtifacts()).map((a) => a.digest).sort(), [hex('a'), hex('e')]);
  });

  storeTest('a tag moves and keeps its history, newest first', async ({ images }) => {
    await images.putArtifact(artifact('a'));
    await images.putArtifact(artifact('b'));
    await images.setTag('team-a/ws2022', 'latest', hex('a'), 'alice', '2026-01-01T00:00:00.000Z');
    const moved = await images.setTag('team-a/ws2022', 'latest', hex('b'), 'bob', '2026-01-02T00:00:00.000Z');
    assert.equal(moved.previousDigest, hex('a'));
    assert.equal((await images.getImage('team-a/ws2022', 'latest'))?.digest, hex('b'));
    const history = await images.tagHistory('team-a/ws2022', 'latest');
    assert.deepEqual(
      history.map((h) => [h.digest, h.previousDigest, h.changedBy]),
      [
        [hex('b'), hex('a'), 'bob'],
        [hex('a'), null, 'alice'],
      ],
    );
    await images.setTag('team-a/ws2022', 'latest', hex('b'), 'bob');
    assert.equal(
      (await images.tagHistory('team-a/ws2022', 'latest')).length,
      2,
      'a no-op move adds no history',
    );
  });

  storeTest('a tag onto an unknown digest or a bad name changes nothing', async ({ images }) => {
    await assert.rejects(images.setTag('a', 'v1', hex('9'), null), hasCode('NOT_FOUND'));
    await images.putArtifact(artifact('a'));
    for (const bad of ['../etc', 'a/../b', 'A', 'a//b', '/a', 'a/', 'a\u0000b', 'a\nb', '']) {
      await assert.rejects(images.setTag(bad, 'v1', hex('a'), null), hasCode('INVALID_ARGUMENT'), bad);
    }
    for (const bad of ['.hidden', '-x', 'a:b', 'x'.repeat(129), 'a/b', '']) {
      await assert.rejects(images.setTag('a', bad, hex('a'), null), hasCode('INVALID_ARGUMENT'), bad);
    }
    assert.deepEqual(await images.listImages(), []);
    assert.deepEqual(await images.tagHistory('a', 'v1'), []);
  });

  storeTest('removing a tag keeps the artifact and records the removal', async ({ images }) => {
    await images.putArtifact(artifact('a'));
    await images.setTag('ws', 'v1', hex('a'), 'alice');
    const removed = await images.removeTag('ws', 'v1', 'bob');
    assert.deepEqual([removed.digest, removed.previousDigest], [null, hex('a')]);
    assert.equal(await images.getImage('ws', 'v1'), undefined);
    assert.ok(await images.getArtifact(hex('a')));
    assert.equal((await images.tagHistory('ws', 'v1'))[0]?.changedBy, 'bob');
    await assert.rejects(images.removeTag('ws', 'v1', 'bob'), hasCode('NOT_FOUND'));
  });

  storeTest('images are listed by name and tag, with their artifact', async ({ images }) => {
    await images.putArtifact(artifact('a', { size: 10, editions: [{ index: 1 }] }));
    await images.putArtifact(artifact('b', { size: 20 }));
    await images.setTag('team-b/x', 'v1', hex('b'), null);
    await images.setTag('team-a/x', 'v2', hex('a'), null);
    await images.setTag('team-a/x', 'v1', hex('b'), null);
    const listed = await images.listImages();
    assert.deepEqual(
      listed.map((i) => `${i.name}:${i.tag}=${i.size}`),
      ['team-a/x:v1=20', 'team-a/x:v2=10', 'team-b/x:v1=20'],
    );
    assert.deepEqual(listed[1]?.editions, [{ index: 1 }]);
    assert.equal((await images.listImages('team-a/x')).length, 2);
    assert.deepEqual(await images.tagsOf(hex('b')), [
      { name: 'team-a/x', tag: 'v1' },
      { name: 'team-b/x', tag: 'v1' },
    ]);
  });

  storeTest('untagged artifacts can be deleted, tagged ones cannot', async ({ images }) => {
    await images.putArtifact(artifact('a'));
    await images.putArtifact(artifact('b'));
    await images.setTag('ws', 'v1', hex('a'), null);
    assert.deepEqual(
      (await images.listUntaggedArtifacts()).map((a) => a.digest),
      [hex('b')],
    );
    await assert.rejects(images.deleteArtifact(hex('a')), hasCode('CONFLICT'));
    assert.equal(await images.deleteArtifact(hex('b')), true);
    assert.equal(await images.deleteArtifact(hex('b')), false);
    assert.ok(await images.getArtifact(hex('a')));
  });

  storeTest('images are listed a page at a time, within scopes, after a given one', async ({ images }) => {
    await images.putArtifact(artifact('a'));
    const names = ['team-a/x', 'team-a/y', 'team-ab/z', 'team-b/x'];
    for (const name of names)
      for (const tag of ['v1', 'v2']) await images.setTag(name, tag, hex('a'), 'alice');
    const page = async (
      scopes: readonly string[] | null,
      after: { name: string; tag: string } | null,
      limit: number,
    ) => (await images.listImagePage({ scopes, after, limit })).map((i) => `${i.name}:${i.tag}`);
    assert.deepEqual(await page(['team-a/'], null, 3), ['team-a/x:v1', 'team-a/x:v2', 'team-a/y:v1']);
    assert.deepEqual(await page(['team-a/'], { name: 'team-a/y', tag: 'v1' }, 3), ['team-a/y:v2']);
    assert.deepEqual(await page(['team-a/'], { name: 'team-a/y', tag: 'v2' }, 3), []);
    const all: string[] = [];
    let after: { name: string; tag: string } | null = null;
    for (;;) {
      const got = await images.listImagePage({ scopes: null, after, limit: 3 });
      all.push(...got.map((i) => `${i.name}:${i.tag}`));
      const last = got.at(-1);
      if (got.length < 3 || last === undefined) break;
      after = { name: last.name, tag: last.tag };
    }
    assert.deepEqual(
      all,
      (await images.listImages()).map((i) => `${i.name}:${i.tag}`),
    );
    assert.equal(all.length, 8);
    assert.deepEqual(await page(['team-ab', 'team-b/'], null, 10), [
      'team-ab/z:v1',
      'team-ab/z:v2',
      'team-b/x:v1',
      'team-b/x:v2',
    ]);
  });

  storeTest('chunks are reusable only through images within the scopes asked', async ({ images }) => {
    await images.putArtifact(artifact('a', { chunks: [hex('1'), hex('2'), hex('1')] }));
    await images.putArtifact(artifact('b', { chunks: [hex('2'), hex('3')] }));
    await images.putArtifact(artifact('c', { chunks: [hex('4')] }));
    await images.putArtifact(artifact('d'));
    await images.setTag('team-a/ws', 'v1', hex('a'), 'alice');
    await images.setTag('team-b/ws', 'v1', hex('b'), 'bob');
    await images.setTag('team_a', 'v1', hex('c'), 'carol');
    const asked = [hex('1'), hex('2'), hex('3'), hex('4'), hex('5')];
    const sorted = (set: Set<string>): string[] => [...set].sort();
    assert.deepEqual(sorted(await images.chunksReadableIn(asked, ['team-a/'])), [hex('1'), hex('2')]);
    assert.deepEqual(sorted(await images.chunksReadableIn(asked, ['team-b'])), [hex('2'), hex('3')]);
    assert.deepEqual(sorted(await images.chunksReadableIn(asked, ['team-a/', 'team-b/'])), [
      hex('1'),
      hex('2'),
      hex('3'),
    ]);
    // '_' is a plain character in a scope, not a pattern: team_a/ covers team_a only.
    assert.deepEqual(sorted(await images.chunksReadableIn(asked, ['team_/'])), []);
    assert.deepEqual(sorted(await images.chunksReadableIn(asked, ['team_a/'])), [hex('4')]);
    assert.deepEqual(sorted(await images.chunksReadableIn(asked, [])), []);
    assert.deepEqual(sorted(await images.chunksReadableIn(asked, null)), asked.slice(0, 4));
    await images.removeTag('team-b/ws', 'v1', 'bob');
    assert.deepEqual(sorted(await images.chunksReadableIn(asked, null)), [hex('1'), hex('2'), hex('4')]);
    assert.deepEqual(await images.artifactsWithoutChunks(), [hex('d')]);
    await images.indexArtifactChunks(hex('d'), [hex('5')]);
    assert.deepEqual(await images.artifactsWithoutChunks(), []);
    assert.equal(await images.deleteArtifact(hex('b')), true);
  });

  storeTest('an upload becomes visible only when committed', async ({ images }) => {
    const upload = await images.createUpload({
      name: 'team-a/ws',
      tag: 'v1',
      manifestDigest: hex('a'),
      manifest: '{"schemaVersion":1}',
      createdBy: 'alice',
    });
    assert.equal(upload.state, 'open');
    assert.equal((await images.findOpenUpload('team-a/ws', 'v1', hex('a')))?.id, upload.id);
    assert.equal(await images.findOpenUpload('team-a/ws', 'v2', hex('a')), undefined);
    assert.deepEqual(await images.listImages(), []);
    assert.ok((await images.liveManifestDigests()).has(hex('a')));

    await assert.rejects(images.commitUpload(upload.id, artifact('b'), 'alice'), hasCode('INVALID_ARGUMENT'));
    assert.equal((await images.getUpload(upload.id))?.state, 'open');
    assert.equal(await images.getArtifact(hex('b')), undefined);

    const { artifact: stored, tag } = await images.commitUpload(upload.id, artifact('a'), 'alice');
    assert.equal(stored.pushedBy, 'alice');
    assert.equal(tag.digest, hex('a'));
    assert.equal((await images.getImage('team-a/ws', 'v1'))?.digest, hex('a'));
    assert.equal((await images.getUpload(upload.id))?.state, 'committed');
    await assert.rejects(images.commitUpload(upload.id, artifact('a'), 'alice'), hasCode('CONFLICT'));
    await assert.rejects(images.commitUpload('no-such-upload', artifact('a'), 'alice'), hasCode('NOT_FOUND'));
    assert.equal(await images.findOpenUpload('team-a/ws', 'v1', hex('a')), undefined);
  });

  storeTest('uploads abort, go stale and are cleaned up', async ({ images }) => {
    const base = { name: 'ws', tag: 'v1', manifest: '{}' };
    const old = await images.createUpload({
      ...base,
      manifestDigest: hex('a'),
      now: '2026-01-01T00:00:00.000Z',
    });
    const fresh = await images.createUpload({
      ...base,
      manifestDigest: hex('b'),
      now: '2026-01-01T00:00:00.000Z',
    });
    const aborted = await images.createUpload({ ...base, manifestDigest: hex('c') });
    await images.accountUploadChunks(old.id, [hex('e')], '2026-01-01T00:00:00.000Z');
    await images.accountUploadChunks(fresh.id, [hex('d'), hex('d')], '2026-01-03T00:00:00.000Z');
    assert.deepEqual([...(await images.uploadChunks(fresh.id))], [hex('d')]);
    assert.equal(await images.abortUpload(aborted.id), true);
    assert.equal(await images.abortUpload(aborted.id), false);
    assert.deepEqual(await images.abortStaleUploads('2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z'), [
      old.id,
    ]);
    assert.deepEqual(
      (await images.listUploads('open')).map((u) => u.id),
      [fresh.id],
    );
    const live = await images.liveManifestDigests();
    assert.ok(live.has(hex('b')) && !live.has(hex('a')) && !live.has(hex('c')));
    assert.equal(await images.deleteClosedUploads('2026-01-02T00:00:01.000Z'), 1);
    assert.equal((await images.uploadChunks(old.id)).size, 0);
    assert.deepEqual((await images.listUploads()).map((u) => u.id).sort(), [aborted.id, fresh.id].sort());
  });

  storeTest('stats count artifacts, their logical bytes and tags', async ({ images }) => {
    assert.deepEqual(await images.stats(), { logicalBytes: 0, artifacts: 0, tags: 0 });
    await images.putArtifact(artifact('a', { size: 3 * 2 ** 32 }));
    await images.putArtifact(artifact('b', { size: 7 }));
    await images.setTag('ws', 'v1', hex('a'), null);
    await images.setTag('ws', 'v2', hex('a'), null);
    assert.deepEqual(await images.stats(), { logicalBytes: 3 * 2 ** 32 + 7, artifacts: 2, tags: 2 });
  });

  storeTest(
    'concurrent tag moves from two servers leave one consistent history',
    async ({ images, reopen, concurrentConnections }) => {
      const second = concurrentConnections ? await reopen() : null;
      const other = second === null ? images : new ImageCatalog(second);
      try {
        const digests = 'abcdef0123'.split('');
        for (const d of digests) await images.putArtifact(artifact(d));
        await images.setTag('ws', 'latest', hex('a'), null);
        await Promise.all(
          digests.flatMap((d, i) => [
            images.setTag('ws', 'latest', hex(d), `s1-${i}`),
            other.setTag('ws', 'latest', hex(digests[(i + 1) % digests.length] ?? 'a'), `s2-${i}`),
          ]),
        );
        const history = (await images.tagHistory('ws', 'latest')).reverse();
        for (let i = 1; i < history.length; i++) {
          assert.equal(
            history[i]?.previousDigest,
            history[i - 1]?.digest,
            `history row ${i} follows row ${i - 1}`,
          );
        }
        assert.equal((await images.getImage('ws', 'latest'))?.digest, history.at(-1)?.digest);
      } finally {
        await second?.close();
      }
    },
  );
}
