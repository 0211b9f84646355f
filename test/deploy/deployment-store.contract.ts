// The deployments' store (profiles, deployments, agents' logs), the same on every database
// winsmith supports.

import assert from 'node:assert/strict';
import { DeploymentStore, MAX_DEPLOYMENT_LOG_LINES } from '../../src/deploy/deployment-store.ts';
import { hasCode, hex, walkPages, type StoreTest } from '../db/store-fixture.ts';

const image = { name: 'lab/ws', tag: 'v1', digest: hex('a'), size: 1234, edition: 1 };

function newDeployment(id: string, machineId: string) {
  return { id, machineId, profile: 'web', image, sealed: 'X', createdBy: 'alice' };
}

export function deploymentStoreContract(storeTest: StoreTest): void {
  storeTest('profiles are stored sealed, replaced by name, listed and removed', async ({ database }) => {
    const store = new DeploymentStore(database);
    const first = await store.putProfile({ name: 'web', sealed: 'S1', summary: { edition: 1 } }, 'alice');
    assert.deepEqual([first.createdBy, first.updatedBy, first.sealed], ['alice', 'alice', 'S1']);
    const second = await store.putProfile({ name: 'web', sealed: 'S2', summary: { edition: 2 } }, 'bob');
    assert.deepEqual([second.createdBy, second.updatedBy, second.summary], ['alice', 'bob', { edition: 2 }]);
    await store.putProfile({ name: 'db', sealed: 'S3', summary: {} }, 'bob');
    assert.deepEqual(
      (await store.listProfiles()).map((p) => p.name),
      ['db', 'web'],
    );
    assert.equal(await store.deleteProfile('web'), true);
    assert.equal(await store.deleteProfile('web'), false);
    assert.equal(await store.getProfile('web'), undefined);
  });

  storeTest(
    'one deployment under way a machine; states move only from where they are',
    async ({ database, machines }) => {
      const store = new DeploymentStore(database);
      const m = await machines.addMachine({ name: 'm1', mac: '52:54:00:00:00:01' });
      const d = await store.createDeployment(newDeployment('d1', m.id));
      assert.equal(d.state, 'queued');
      assert.deepEqual(d.image, image);
      await assert.rejects(store.createDeployment(newDeployment('d2', m.id)), hasCode('CONFLICT'));
      assert.equal((await store.activeFor(m.id))?.id, 'd1');
      const booting = await store.transition('d1', ['queued'], 'booting', { token_hash: hex('b') });
      assert.deepEqual(
        booting.history.map((h) => h.state),
        ['queued', 'booting'],
      );
      assert.equal((await store.findByTokenHash(hex('b')))?.id, 'd1');
      await assert.rejects(store.transition('d1', ['queued'], 'booting'), hasCode('CONFLICT'));
      await assert.rejects(store.transition('nope', ['queued'], 'booting'), hasCode('NOT_FOUND'));
      await store.transition('d1', ['booting'], 'cancelled');
      assert.equal(await store.findByTokenHash(hex('b')), undefined, 'an ended deployment opens to no token');
      assert.equal(await store.activeFor(m.id), undefined);
      const again = await store.createDeployment(newDeployment('d2', m.id));
      assert.equal(again.state, 'queued');
      assert.deepEqual((await store.listDeployments({ machineId: m.id })).map((x) => x.id).sort(), [
        'd1',
        'd2',
      ]);
      assert.deepEqual(
        (await store.listDeployments({ active: true })).map((x) => x.id),
        ['d2'],
      );
    },
  );

  storeTest(
    'reports: progress, disk, error and log lines (bounded); the answer file is taken once; silence is found',
    async ({ database, machines }) => {
      const store = new DeploymentStore(database);
      const m = await machines.addMachine({ name: 'm1', mac: '52:54:00:00:00:01' });
      await store.createDeployment(newDeployment('d1', m.id));
      await store.transition('d1', ['queued'], 'booting', {}, '2026-01-01T00:00:00.000Z');
      assert.deepEqual(
        await store.silentSince('2026-01-01T00:05:00.000Z', '2026-01-01T00:00:00.000Z'),
        [],
        'a booting machine is judged by the boot cutoff alone',
      );
      assert.deepEqual(
        (await store.silentSince('2025-12-31T00:00:00.000Z', '2026-01-01T00:05:00.000Z')).map((d) => d.id),
        ['d1'],
        'a machine that booted and never reported is silent',
      );
      await store.transition('d1', ['booting'], 'agent-online');
      await store.recordReport(
        'd1',
        { progress: { done: 5, total: 10 }, disk: '/dev/sda', lines: ['one', 'two'] },
        '2026-01-01T00:10:00.000Z',
      );
      const d = await store.requireDeployment('d1');
      assert.deepEqual(
        [d.progress, d.disk, d.lastReportAt],
        [{ done: 5, total: 10 }, '/dev/sda', '2026-01-01T00:10:00.000Z'],
      );
      const lines = await store.logLines('d1');
      assert.deepEqual(
        lines.map((l) => l.line),
        ['one', 'two'],
      );
      const first = lines[0];
      assert.ok(first);
      assert.deepEqual(
        (await store.logLines('d1', first.id)).map((l) => l.line),
        ['two'],
      );
      assert.deepEqual(
        await store.silentSince('2026-01-01T00:09:00.000Z', '2026-01-02T00:00:00.000Z'),
        [],
        'an agent that has reported is judged by the agent cutoff alone',
      );
      assert.deepEqual(
        (await store.silentSince('2026-01-01T00:11:00.000Z', '2025-01-01T00:00:00.000Z')).map((x) => x.id),
        ['d1'],
      );
      const flood = Array.from({ length: 200 }, (_, i) => `line ${i}`);
      for (let i = 0; i < MAX_DEPLOYMENT_LOG_LINES / 200 + 2; i++)
        await store.recordReport('d1', { lines: flood });
      assert.equal(
        (await store.logLines('d1', 0, MAX_DEPLOYMENT_LOG_LINES + 100)).length,
        MAX_DEPLOYMENT_LOG_LINES,
      );
      assert.equal(await store.takeUnattend('d1'), true);
      assert.equal(await store.takeUnattend('d1'), false);
      await store.recordReport('d1', { error: { message: 'disk gone', step: 'applying' } });
      assert.deepEqual((await store.requireDeployment('d1')).error, {
        message: 'disk gone',
        step: 'applying',
      });
    },
  );

  storeTest(
    'deployments are listed a page at a time, newest first, within scopes on the database',
    async ({ database, machines }) => {
      const store = new DeploymentStore(database);
      const names = ['lab/ws', 'lab', 'labx/ws', 'lab_/ws', 'other/ws', 'lab/a/b', 'lab/ws'];
      for (const [i, name] of names.entries()) {
        const m = await machines.addMachine({ name: `m${i}`, mac: `52:54:00:00:03:0${i}` });
        await store.createDeployment({ ...newDeployment(`d${i}`, m.id), image: { ...image, name } });
      }
      const all = (await store.listDeployments()).map((d) => d.id);
      assert.deepEqual(
        [...all].sort(),
        names.map((_, i) => `d${i}`),
      );
      const walk = (scopes: readonly string[] | null, limit: number) =>
        walkPages(limit, async (cursor) => {
          const page = await store.listDeploymentPage({ scopes, limit, cursor });
          return { records: page.deployments.map((d) => d.id), next: page.next };
        });
      assert.deepEqual(await walk(null, 3), { seen: all, pages: 3 });
      // 'lab/' takes lab, lab/ws and lab/a/b; never labx/ws or lab_/ws (`_` is no wildcard).
      const lab = all.filter((id) => ['d0', 'd1', 'd5', 'd6'].includes(id));
      assert.deepEqual((await walk(['lab/'], 2)).seen, lab);
      assert.deepEqual(
        (await walk(['other', 'lab_'], 1)).seen,
        all.filter((id) => ['d3', 'd4'].includes(id)),
      );
      assert.deepEqual((await walk([], 5)).seen, []);
      await assert.rejects(
        store.listDeploymentPage({ scopes: null, limit: 5, cursor: 'no' }),
        hasCode('INVALID_ARGUMENT'),
      );
    },
  );
}
