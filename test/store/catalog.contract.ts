// The catalog contract: one suite, run against every database winsmith supports (SQLite in a temp
// file, PostgreSQL in a private cluster). A test file calls `catalogContract` with a factory that
// gives each test a fresh, migrated catalog.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../src/core/errors.ts';
import type { Catalog, NewArtifact } from '../../src/store/catalog/catalog.ts';

export interface CatalogFixture {
  readonly catalog: Catalog;
  /** Opens a second catalog on the same database (as another server, or after a restart). */
  readonly reopen: () => Promise<Catalog>;
  /**
   * Whether two catalogs open in one process may hold transactions at the same time. node:sqlite
   * is synchronous: a second connection waiting for the write lock blocks the event loop the first
   * needs to commit, so SQLite is one connection a process (several processes do wait in turn).
   */
  readonly concurrentConnections: boolean;
}

export type CatalogFactory = () => Promise<CatalogFixture>;

const hex = (c: string): string => c.repeat(64);

function artifact(c: string, extra: Partial<NewArtifact> = {}): NewArtifact {
  return { digest: hex(c), mediaType: 'application/x-wim', size: 1000, sha256: hex('f'), ...extra };
}

function hasCode(code: string) {
  return (e: unknown): boolean => e instanceof AppError && e.code === code;
}

export function catalogContract(label: string, factory: CatalogFactory): void {
  const withCatalog = (name: string, fn: (f: CatalogFixture) => Promise<void>): void => {
    test(`${label}: ${name}`, { timeout: 60_000 }, async () => {
      const fixture = await factory();
      try {
        await fn(fixture);
      } finally {
        await fixture.catalog.close();
      }
    });
  };

  withCatalog('migrations are idempotent and data survives a reopen', async ({ catalog, reopen }) => {
    await catalog.putArtifact(artifact('a'));
    const again = await reopen();
    try {
      assert.equal((await again.getArtifact(hex('a')))?.size, 1000);
    } finally {
      await again.close();
    }
  });

  withCatalog('artifacts round-trip every field and keep their first record', async ({ catalog }) => {
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
    const stored = await catalog.putArtifact(full);
    assert.deepEqual(stored, { ...full });
    const second = await catalog.putArtifact({ ...full, pushedBy: 'mallory', size: 1 });
    assert.equal(second.pushedBy, 'alice');
    assert.equal(second.size, 5 * 2 ** 40);
    assert.deepEqual(await catalog.getArtifact(hex('a')), stored);
    assert.equal(await catalog.getArtifact(hex('e')), undefined);
    const child = await catalog.putArtifact(artifact('e', { parentDigest: hex('a') }));
    assert.deepEqual(await catalog.listChildren(hex('a')), [child]);
    assert.deepEqual((await catalog.listArtifacts()).map((a) => a.digest).sort(), [hex('a'), hex('e')]);
  });

  withCatalog('a tag moves and keeps its history, newest first', async ({ catalog }) => {
    await catalog.putArtifact(artifact('a'));
    await catalog.putArtifact(artifact('b'));
    await catalog.setTag('team-a/ws2022', 'latest', hex('a'), 'alice', '2026-01-01T00:00:00.000Z');
    const moved = await catalog.setTag(
      'team-a/ws2022',
      'latest',
      hex('b'),
      'bob',
      '2026-01-02T00:00:00.000Z',
    );
    assert.equal(moved.previousDigest, hex('a'));
    assert.equal((await catalog.getImage('team-a/ws2022', 'latest'))?.digest, hex('b'));
    const history = await catalog.tagHistory('team-a/ws2022', 'latest');
    assert.deepEqual(
      history.map((h) => [h.digest, h.previousDigest, h.changedBy]),
      [
        [hex('b'), hex('a'), 'bob'],
        [hex('a'), null, 'alice'],
      ],
    );
    await catalog.setTag('team-a/ws2022', 'latest', hex('b'), 'bob');
    assert.equal(
      (await catalog.tagHistory('team-a/ws2022', 'latest')).length,
      2,
      'a no-op move adds no history',
    );
  });

  withCatalog('a tag onto an unknown digest or a bad name changes nothing', async ({ catalog }) => {
    await assert.rejects(catalog.setTag('a', 'v1', hex('9'), null), hasCode('NOT_FOUND'));
    await catalog.putArtifact(artifact('a'));
    for (const bad of ['../etc', 'a/../b', 'A', 'a//b', '/a', 'a/', 'a\u0000b', 'a\nb', '']) {
      await assert.rejects(catalog.setTag(bad, 'v1', hex('a'), null), hasCode('INVALID_ARGUMENT'), bad);
    }
    for (const bad of ['.hidden', '-x', 'a:b', 'x'.repeat(129), 'a/b', '']) {
      await assert.rejects(catalog.setTag('a', bad, hex('a'), null), hasCode('INVALID_ARGUMENT'), bad);
    }
    assert.deepEqual(await catalog.listImages(), []);
    assert.deepEqual(await catalog.tagHistory('a', 'v1'), []);
  });

  withCatalog('removing a tag keeps the artifact and records the removal', async ({ catalog }) => {
    await catalog.putArtifact(artifact('a'));
    await catalog.setTag('ws', 'v1', hex('a'), 'alice');
    const removed = await catalog.removeTag('ws', 'v1', 'bob');
    assert.deepEqual([removed.digest, removed.previousDigest], [null, hex('a')]);
    assert.equal(await catalog.getImage('ws', 'v1'), undefined);
    assert.ok(await catalog.getArtifact(hex('a')));
    assert.equal((await catalog.tagHistory('ws', 'v1'))[0]?.changedBy, 'bob');
    await assert.rejects(catalog.removeTag('ws', 'v1', 'bob'), hasCode('NOT_FOUND'));
  });

  withCatalog('images are listed by name and tag, with their artifact', async ({ catalog }) => {
    await catalog.putArtifact(artifact('a', { size: 10, editions: [{ index: 1 }] }));
    await catalog.putArtifact(artifact('b', { size: 20 }));
    await catalog.setTag('team-b/x', 'v1', hex('b'), null);
    await catalog.setTag('team-a/x', 'v2', hex('a'), null);
    await catalog.setTag('team-a/x', 'v1', hex('b'), null);
    const images = await catalog.listImages();
    assert.deepEqual(
      images.map((i) => `${i.name}:${i.tag}=${i.size}`),
      ['team-a/x:v1=20', 'team-a/x:v2=10', 'team-b/x:v1=20'],
    );
    assert.deepEqual(images[1]?.editions, [{ index: 1 }]);
    assert.equal((await catalog.listImages('team-a/x')).length, 2);
    assert.deepEqual(await catalog.tagsOf(hex('b')), [
      { name: 'team-a/x', tag: 'v1' },
      { name: 'team-b/x', tag: 'v1' },
    ]);
  });

  withCatalog('untagged artifacts can be deleted, tagged ones cannot', async ({ catalog }) => {
    await catalog.putArtifact(artifact('a'));
    await catalog.putArtifact(artifact('b'));
    await catalog.setTag('ws', 'v1', hex('a'), null);
    assert.deepEqual(
      (await catalog.listUntaggedArtifacts()).map((a) => a.digest),
      [hex('b')],
    );
    await assert.rejects(catalog.deleteArtifact(hex('a')), hasCode('CONFLICT'));
    assert.equal(await catalog.deleteArtifact(hex('b')), true);
    assert.equal(await catalog.deleteArtifact(hex('b')), false);
    assert.ok(await catalog.getArtifact(hex('a')));
  });

  withCatalog('images are listed a page at a time, within scopes, after a given one', async ({ catalog }) => {
    await catalog.putArtifact(artifact('a'));
    const names = ['team-a/x', 'team-a/y', 'team-ab/z', 'team-b/x'];
    for (const name of names)
      for (const tag of ['v1', 'v2']) await catalog.setTag(name, tag, hex('a'), 'alice');
    const page = async (
      scopes: readonly string[] | null,
      after: { name: string; tag: string } | null,
      limit: number,
    ) => (await catalog.listImagePage({ scopes, after, limit })).map((i) => `${i.name}:${i.tag}`);
    assert.deepEqual(await page(['team-a/'], null, 3), ['team-a/x:v1', 'team-a/x:v2', 'team-a/y:v1']);
    assert.deepEqual(await page(['team-a/'], { name: 'team-a/y', tag: 'v1' }, 3), ['team-a/y:v2']);
    assert.deepEqual(await page(['team-a/'], { name: 'team-a/y', tag: 'v2' }, 3), []);
    const all: string[] = [];
    let after: { name: string; tag: string } | null = null;
    for (;;) {
      const got = await catalog.listImagePage({ scopes: null, after, limit: 3 });
      all.push(...got.map((i) => `${i.name}:${i.tag}`));
      const last = got.at(-1);
      if (got.length < 3 || last === undefined) break;
      after = { name: last.name, tag: last.tag };
    }
    assert.deepEqual(
      all,
      (await catalog.listImages()).map((i) => `${i.name}:${i.tag}`),
    );
    assert.equal(all.length, 8);
    assert.deepEqual(await page(['team-ab', 'team-b/'], null, 10), [
      'team-ab/z:v1',
      'team-ab/z:v2',
      'team-b/x:v1',
      'team-b/x:v2',
    ]);
  });

  withCatalog('chunks are reusable only through images within the scopes asked', async ({ catalog }) => {
    await catalog.putArtifact(artifact('a', { chunks: [hex('1'), hex('2'), hex('1')] }));
    await catalog.putArtifact(artifact('b', { chunks: [hex('2'), hex('3')] }));
    await catalog.putArtifact(artifact('c', { chunks: [hex('4')] }));
    await catalog.putArtifact(artifact('d'));
    await catalog.setTag('team-a/ws', 'v1', hex('a'), 'alice');
    await catalog.setTag('team-b/ws', 'v1', hex('b'), 'bob');
    await catalog.setTag('team_a', 'v1', hex('c'), 'carol');
    const asked = [hex('1'), hex('2'), hex('3'), hex('4'), hex('5')];
    const sorted = (set: Set<string>): string[] => [...set].sort();
    assert.deepEqual(sorted(await catalog.chunksReadableIn(asked, ['team-a/'])), [hex('1'), hex('2')]);
    assert.deepEqual(sorted(await catalog.chunksReadableIn(asked, ['team-b'])), [hex('2'), hex('3')]);
    assert.deepEqual(sorted(await catalog.chunksReadableIn(asked, ['team-a/', 'team-b/'])), [
      hex('1'),
      hex('2'),
      hex('3'),
    ]);
    // '_' is a plain character in a scope, not a pattern: team_a/ covers team_a only.
    assert.deepEqual(sorted(await catalog.chunksReadableIn(asked, ['team_/'])), []);
    assert.deepEqual(sorted(await catalog.chunksReadableIn(asked, ['team_a/'])), [hex('4')]);
    assert.deepEqual(sorted(await catalog.chunksReadableIn(asked, [])), []);
    assert.deepEqual(sorted(await catalog.chunksReadableIn(asked, null)), asked.slice(0, 4));
    await catalog.removeTag('team-b/ws', 'v1', 'bob');
    assert.deepEqual(sorted(await catalog.chunksReadableIn(asked, null)), [hex('1'), hex('2'), hex('4')]);
    assert.deepEqual(await catalog.artifactsWithoutChunks(), [hex('d')]);
    await catalog.indexArtifactChunks(hex('d'), [hex('5')]);
    assert.deepEqual(await catalog.artifactsWithoutChunks(), []);
    assert.equal(await catalog.deleteArtifact(hex('b')), true);
  });

  withCatalog('an upload becomes visible only when committed', async ({ catalog }) => {
    const upload = await catalog.createUpload({
      name: 'team-a/ws',
      tag: 'v1',
      manifestDigest: hex('a'),
      manifest: '{"schemaVersion":1}',
      createdBy: 'alice',
    });
    assert.equal(upload.state, 'open');
    assert.equal((await catalog.findOpenUpload('team-a/ws', 'v1', hex('a')))?.id, upload.id);
    assert.equal(await catalog.findOpenUpload('team-a/ws', 'v2', hex('a')), undefined);
    assert.deepEqual(await catalog.listImages(), []);
    assert.ok((await catalog.liveManifestDigests()).has(hex('a')));

    await assert.rejects(
      catalog.commitUpload(upload.id, artifact('b'), 'alice'),
      hasCode('INVALID_ARGUMENT'),
    );
    assert.equal((await catalog.getUpload(upload.id))?.state, 'open');
    assert.equal(await catalog.getArtifact(hex('b')), undefined);

    const { artifact: stored, tag } = await catalog.commitUpload(upload.id, artifact('a'), 'alice');
    assert.equal(stored.pushedBy, 'alice');
    assert.equal(tag.digest, hex('a'));
    assert.equal((await catalog.getImage('team-a/ws', 'v1'))?.digest, hex('a'));
    assert.equal((await catalog.getUpload(upload.id))?.state, 'committed');
    await assert.rejects(catalog.commitUpload(upload.id, artifact('a'), 'alice'), hasCode('CONFLICT'));
    await assert.rejects(
      catalog.commitUpload('no-such-upload', artifact('a'), 'alice'),
      hasCode('NOT_FOUND'),
    );
    assert.equal(await catalog.findOpenUpload('team-a/ws', 'v1', hex('a')), undefined);
  });

  withCatalog('uploads abort, go stale and are cleaned up', async ({ catalog }) => {
    const base = { name: 'ws', tag: 'v1', manifest: '{}' };
    const old = await catalog.createUpload({
      ...base,
      manifestDigest: hex('a'),
      now: '2026-01-01T00:00:00.000Z',
    });
    const fresh = await catalog.createUpload({
      ...base,
      manifestDigest: hex('b'),
      now: '2026-01-01T00:00:00.000Z',
    });
    const aborted = await catalog.createUpload({ ...base, manifestDigest: hex('c') });
    await catalog.accountUploadChunks(old.id, [hex('e')], '2026-01-01T00:00:00.000Z');
    await catalog.accountUploadChunks(fresh.id, [hex('d'), hex('d')], '2026-01-03T00:00:00.000Z');
    assert.deepEqual([...(await catalog.uploadChunks(fresh.id))], [hex('d')]);
    assert.equal(await catalog.abortUpload(aborted.id), true);
    assert.equal(await catalog.abortUpload(aborted.id), false);
    assert.deepEqual(
      await catalog.abortStaleUploads('2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z'),
      [old.id],
    );
    assert.deepEqual(
      (await catalog.listUploads('open')).map((u) => u.id),
      [fresh.id],
    );
    const live = await catalog.liveManifestDigests();
    assert.ok(live.has(hex('b')) && !live.has(hex('a')) && !live.has(hex('c')));
    assert.equal(await catalog.deleteClosedUploads('2026-01-02T00:00:01.000Z'), 1);
    assert.equal((await catalog.uploadChunks(old.id)).size, 0);
    assert.deepEqual((await catalog.listUploads()).map((u) => u.id).sort(), [aborted.id, fresh.id].sort());
  });

  withCatalog('users: create, duplicate, change, disable, delete with their tokens', async ({ catalog }) => {
    assert.equal(await catalog.countUsers(), 0);
    const alice = await catalog.createUser({
      name: 'alice',
      passwordHash: '$argon2id$x',
      role: 'builder',
      scopes: ['team-a/'],
    });
    assert.deepEqual([alice.role, alice.scopes, alice.disabled], ['builder', ['team-a/'], false]);
    await assert.rejects(
      catalog.createUser({ name: 'alice', passwordHash: 'y', role: 'admin' }),
      hasCode('ALREADY_EXISTS'),
    );
    await assert.rejects(
      catalog.createUser({ name: 'Bad Name', passwordHash: 'y', role: 'admin' }),
      hasCode('INVALID_ARGUMENT'),
    );
    const changed = await catalog.updateUser('alice', { role: 'viewer', scopes: [], disabled: true });
    assert.deepEqual(
      [changed.role, changed.scopes, changed.disabled, changed.passwordHash],
      ['viewer', [], true, '$argon2id$x'],
    );
    await assert.rejects(catalog.updateUser('bob', { disabled: true }), hasCode('NOT_FOUND'));
    await catalog.createToken({ name: 'ci', userName: 'alice', tokenHash: hex('1'), expiresAt: null });
    assert.equal(await catalog.countUsers(), 1);
    assert.equal(await catalog.deleteUser('alice'), true);
    assert.equal(await catalog.findTokenByHash(hex('1')), undefined);
    assert.deepEqual(await catalog.listTokens(), []);
    assert.equal(await catalog.deleteUser('alice'), false);
  });

  withCatalog('tokens: found by hash, used, revoked', async ({ catalog }) => {
    await catalog.createUser({ name: 'bob', passwordHash: 'h', role: 'operator' });
    const token = await catalog.createToken({
      name: 'laptop',
      userName: 'bob',
      tokenHash: hex('2'),
      expiresAt: '2027-01-01T00:00:00.000Z',
      now: '2026-01-01T00:00:00.000Z',
    });
    const found = await catalog.findTokenByHash(hex('2'));
    assert.deepEqual(found?.token, token);
    assert.equal(found.user.role, 'operator');
    assert.equal(await catalog.findTokenByHash(hex('3')), undefined);
    await catalog.touchToken(token.id, '2026-02-01T00:00:00.000Z');
    assert.equal((await catalog.getToken(token.id))?.lastUsedAt, '2026-02-01T00:00:00.000Z');
    assert.equal(await catalog.revokeToken(token.id), true);
    assert.equal(await catalog.revokeToken(token.id), false);
    assert.notEqual((await catalog.listTokens('bob'))[0]?.revokedAt, null);
    await assert.rejects(
      catalog.createToken({ name: 'x', userName: 'nobody', tokenHash: hex('4'), expiresAt: null }),
    );
  });

  withCatalog('the audit log lists newest first, filters and pages', async ({ catalog }) => {
    for (let i = 0; i < 5; i++) {
      await catalog.appendAudit({
        actor: i % 2 === 0 ? 'alice' : 'bob',
        action: i < 3 ? 'image.push' : 'tag.move',
        target: `ws:v${i}`,
        client: '127.0.0.1',
        details: { n: i, nested: { ok: true } },
      });
    }
    const all = await catalog.listAudit();
    assert.deepEqual(
      all.map((e) => e.target),
      ['ws:v4', 'ws:v3', 'ws:v2', 'ws:v1', 'ws:v0'],
    );
    assert.deepEqual(all[0]?.details, { n: 4, nested: { ok: true } });
    assert.equal(all[0].client, '127.0.0.1');
    assert.deepEqual(
      (await catalog.listAudit({ actor: 'bob' })).map((e) => e.target),
      ['ws:v3', 'ws:v1'],
    );
    assert.equal((await catalog.listAudit({ action: 'tag.move' })).length, 2);
    const page = await catalog.listAudit({ limit: 2 });
    const next = await catalog.listAudit({ limit: 2, beforeId: page[1]?.id ?? 0 });
    assert.deepEqual(
      next.map((e) => e.target),
      ['ws:v2', 'ws:v1'],
    );
  });

  withCatalog('audit details never keep a secret', async ({ catalog }) => {
    const entry = await catalog.appendAudit({
      actor: 'admin',
      action: 'user.add',
      target: 'alice',
      details: {
        role: 'builder',
        password: 'hunter2hunter2',
        nested: [{ tokenHash: 'abc', Authorization: 'Bearer wsm_x', tokenName: 'ci' }],
        clientSecret: 's',
      },
    });
    const stored = (await catalog.listAudit({ target: 'alice' }))[0];
    assert.deepEqual(stored, entry);
    assert.deepEqual(stored.details, {
      role: 'builder',
      password: '[redacted]',
      nested: [{ tokenHash: '[redacted]', Authorization: '[redacted]', tokenName: 'ci' }],
      clientSecret: '[redacted]',
    });
  });

  withCatalog('machines are registered once per MAC, refreshed, assigned', async ({ catalog }) => {
    const first = await catalog.recordMachineSeen({
      mac: '52-54-00-AA-BB-CC',
      smbiosUuid: '4C4C4544-0000-1000-8000-000000000001',
      manufacturer: 'QEMU',
      arch: 'x86_64',
      platform: 'efi',
      inventory: { cpu: 2, nic: 'e1000' },
      now: '2026-01-01T00:00:00.000Z',
    });
    assert.equal(first.created, true);
    assert.equal(first.machine.mac, '52:54:00:aa:bb:cc');
    const again = await catalog.recordMachineSeen({
      mac: '52:54:00:aa:bb:cc',
      serial: 'S1',
      inventory: { cpu: 4 },
      now: '2026-01-02T00:00:00.000Z',
    });
    assert.equal(again.created, false);
    assert.equal(again.machine.id, first.machine.id);
    assert.deepEqual(again.machine.inventory, { cpu: 4, nic: 'e1000' });
    assert.deepEqual(
      [again.machine.firstSeen, again.machine.lastSeen, again.machine.serial, again.machine.manufacturer],
      ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', 'S1', 'QEMU'],
    );
    assert.equal(
      (await catalog.getMachineByUuid('4c4c4544-0000-1000-8000-000000000001'))?.id,
      first.machine.id,
    );
    assert.equal((await catalog.getMachineByMac('52:54:00:AA:BB:CC'))?.id, first.machine.id);
    assert.equal((await catalog.assignDeployment(first.machine.id, 'deploy-1')).deploymentId, 'deploy-1');
    assert.equal((await catalog.assignDeployment(first.machine.id, null)).deploymentId, null);
    await assert.rejects(catalog.assignDeployment('nope', 'd'), hasCode('NOT_FOUND'));
    await assert.rejects(
      catalog.recordMachineSeen({ mac: '52:54:00:zz:00:00' }),
      hasCode('INVALID_ARGUMENT'),
    );
    assert.equal((await catalog.listMachines()).length, 1);
    assert.equal(await catalog.deleteMachine(first.machine.id), true);
    assert.deepEqual(await catalog.listMachines(), []);
  });

  withCatalog('leases: one holder per address, one address per MAC, expiry', async ({ catalog }) => {
    const now = '2026-01-01T00:00:00.000Z';
    const later = '2026-01-01T01:00:00.000Z';
    assert.equal(await catalog.claimLease('10.9.0.10', '52:54:00:00:00:01', later, now), true);
    assert.equal(await catalog.claimLease('10.9.0.10', '52:54:00:00:00:02', later, now), false);
    assert.equal((await catalog.getLeaseByIp('10.9.0.10'))?.mac, '52:54:00:00:00:01');
    assert.equal(
      await catalog.claimLease('10.9.0.10', '52:54:00:00:00:01', '2026-01-01T02:00:00.000Z', now),
      true,
    );
    assert.equal(await catalog.claimLease('10.9.0.11', '52:54:00:00:00:01', later, now), true);
    assert.equal(await catalog.getLeaseByIp('10.9.0.10'), undefined, 'a MAC holds one address');
    assert.equal(
      await catalog.claimLease('10.9.0.11', '52:54:00:00:00:02', later, later),
      true,
      'expired: taken over',
    );
    assert.equal((await catalog.getLeaseByMac('52:54:00:00:00:02'))?.ip, '10.9.0.11');
    assert.equal(await catalog.getLeaseByMac('52:54:00:00:00:01'), undefined);
    assert.equal(await catalog.claimLease('10.9.0.12', '52:54:00:00:00:03', now, now), true);
    assert.deepEqual(
      (await catalog.listLeases(now)).map((l) => l.ip),
      ['10.9.0.11'],
    );
    assert.equal(await catalog.releaseLease('10.9.0.11', '52:54:00:00:00:09'), false);
    assert.equal(await catalog.releaseLease('10.9.0.11', '52:54:00:00:00:02'), true);
    assert.equal(await catalog.deleteExpiredLeases(now), 1);
    assert.deepEqual(await catalog.listLeases(), []);
  });

  withCatalog('stats count artifacts, their logical bytes and tags', async ({ catalog }) => {
    assert.deepEqual(await catalog.stats(), { logicalBytes: 0, artifacts: 0, tags: 0 });
    await catalog.putArtifact(artifact('a', { size: 3 * 2 ** 32 }));
    await catalog.putArtifact(artifact('b', { size: 7 }));
    await catalog.setTag('ws', 'v1', hex('a'), null);
    await catalog.setTag('ws', 'v2', hex('a'), null);
    assert.deepEqual(await catalog.stats(), { logicalBytes: 3 * 2 ** 32 + 7, artifacts: 2, tags: 2 });
  });

  withCatalog(
    'concurrent tag moves from two servers leave one consistent history',
    async ({ catalog, reopen, concurrentConnections }) => {
      const other = concurrentConnections ? await reopen() : catalog;
      try {
        const digests = 'abcdef0123'.split('');
        for (const d of digests) await catalog.putArtifact(artifact(d));
        await catalog.setTag('ws', 'latest', hex('a'), null);
        await Promise.all(
          digests.flatMap((d, i) => [
            catalog.setTag('ws', 'latest', hex(d), `s1-${i}`),
            other.setTag('ws', 'latest', hex(digests[(i + 1) % digests.length] ?? 'a'), `s2-${i}`),
          ]),
        );
        const history = (await catalog.tagHistory('ws', 'latest')).reverse();
        for (let i = 1; i < history.length; i++) {
          assert.equal(
            history[i]?.previousDigest,
            history[i - 1]?.digest,
            `history row ${i} follows row ${i - 1}`,
          );
        }
        assert.equal((await catalog.getImage('ws', 'latest'))?.digest, history.at(-1)?.digest);
      } finally {
        if (other !== catalog) await other.close();
      }
    },
  );

  withCatalog(
    'concurrent claims of one address from two servers: exactly one wins',
    async ({ catalog, reopen, concurrentConnections }) => {
      const other = concurrentConnections ? await reopen() : catalog;
      try {
        const now = '2026-01-01T00:00:00.000Z';
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 === 0 ? catalog : other).claimLease(
              '10.9.0.50',
              `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`,
              '2026-01-01T01:00:00.000Z',
              now,
            ),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal((await catalog.listLeases()).length, 1);
      } finally {
        if (other !== catalog) await other.close();
      }
    },
  );
}
