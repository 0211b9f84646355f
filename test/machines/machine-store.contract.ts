// The machines' store (machines and DHCP leases), the same on every database winsmith supports.

import assert from 'node:assert/strict';
import { MachineStore } from '../../src/machines/machine-store.ts';
import { hasCode, walkPages, type StoreTest } from '../db/store-fixture.ts';

export function machineStoreContract(storeTest: StoreTest): void {
  storeTest('machines are registered once per MAC, refreshed, assigned', async ({ machines }) => {
    const first = await machines.recordMachineSeen({
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
    const again = await machines.recordMachineSeen({
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
      (await machines.getMachineByUuid('4c4c4544-0000-1000-8000-000000000001'))?.id,
      first.machine.id,
    );
    assert.equal((await machines.getMachineByMac('52:54:00:AA:BB:CC'))?.id, first.machine.id);
    assert.equal(first.machine.state, 'pending');
    assert.equal((await machines.approveMachine(first.machine.id)).state, 'ready');
    assert.equal(await machines.countMachines('pending'), 0);
    await assert.rejects(machines.approveMachine('nope'), hasCode('NOT_FOUND'));
    await assert.rejects(
      machines.recordMachineSeen({ mac: '52:54:00:zz:00:00' }),
      hasCode('INVALID_ARGUMENT'),
    );
    assert.equal((await machines.listMachines()).length, 1);
    assert.equal(await machines.deleteMachine(first.machine.id), true);
    assert.deepEqual(await machines.listMachines(), []);
  });

  storeTest('leases: one holder per address, one address per MAC, expiry', async ({ machines }) => {
    const now = '2026-01-01T00:00:00.000Z';
    const later = '2026-01-01T01:00:00.000Z';
    assert.equal(await machines.claimLease('10.9.0.10', '52:54:00:00:00:01', later, now), true);
    assert.equal(await machines.claimLease('10.9.0.10', '52:54:00:00:00:02', later, now), false);
    assert.equal((await machines.getLeaseByIp('10.9.0.10'))?.mac, '52:54:00:00:00:01');
    assert.equal(
      await machines.claimLease('10.9.0.10', '52:54:00:00:00:01', '2026-01-01T02:00:00.000Z', now),
      true,
    );
    assert.equal(await machines.claimLease('10.9.0.11', '52:54:00:00:00:01', later, now), true);
    assert.equal(await machines.getLeaseByIp('10.9.0.10'), undefined, 'a MAC holds one address');
    assert.equal(
      await machines.claimLease('10.9.0.11', '52:54:00:00:00:02', later, later),
      true,
      'expired: taken over',
    );
    assert.equal((await machines.getLeaseByMac('52:54:00:00:00:02'))?.ip, '10.9.0.11');
    assert.equal(await machines.getLeaseByMac('52:54:00:00:00:01'), undefined);
    assert.equal(await machines.claimLease('10.9.0.12', '52:54:00:00:00:03', now, now), true);
    assert.deepEqual(
      (await machines.listLeases(now)).map((l) => l.ip),
      ['10.9.0.11'],
    );
    assert.equal(await machines.releaseLease('10.9.0.11', '52:54:00:00:00:09'), false);
    assert.equal(await machines.releaseLease('10.9.0.11', '52:54:00:00:00:02'), true);
    assert.equal(await machines.deleteExpiredLeases(now), 1);
    assert.deepEqual(await machines.listLeases(), []);
  });

  storeTest(
    'concurrent claims of one address from two servers: exactly one wins',
    async ({ machines, reopen, concurrentConnections }) => {
      const second = concurrentConnections ? await reopen() : null;
      const other = second === null ? machines : new MachineStore(second);
      try {
        const now = '2026-01-01T00:00:00.000Z';
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 === 0 ? machines : other).claimLease(
              '10.9.0.50',
              `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`,
              '2026-01-01T01:00:00.000Z',
              now,
            ),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal((await machines.listLeases()).length, 1);
      } finally {
        await second?.close();
      }
    },
  );

  storeTest(
    'operators register machines by MAC, UUID or both, name, label and find them',
    async ({ machines }) => {
      const web = await machines.addMachine(
        { mac: '52-54-00-00-00-0A', name: 'web-01', labels: ['web', 'rack-a1', 'web'] },
        '2026-01-01T00:00:00.000Z',
      );
      assert.deepEqual(
        [web.mac, web.name, web.labels, web.state],
        ['52:54:00:00:00:0a', 'web-01', ['web', 'rack-a1'], 'ready'],
      );
      const uuidOnly = await machines.addMachine({
        smbiosUuid: '4C4C4544-0000-1000-8000-0000000000AA',
        name: 'db-01',
      });
      assert.equal(uuidOnly.mac, null);
      await machines.recordMachineSeen({ mac: '52:54:00:00:00:0b', now: '2026-01-02T00:00:00.000Z' });
      for (const key of [web.id, '52:54:00:00:00:0a', '52540000000a', 'web-01']) {
        assert.equal((await machines.findMachine(key))?.id, web.id, key);
      }
      assert.equal(await machines.findMachine('nobody'), undefined);
      assert.deepEqual(
        (await machines.listMachines({ state: 'pending' })).map((m) => m.mac),
        ['52:54:00:00:00:0b'],
      );
      assert.deepEqual(
        (await machines.listMachines({ label: 'web' })).map((m) => m.name),
        ['web-01'],
      );
      assert.deepEqual((await machines.listMachines({ state: 'ready', label: 'db' })).length, 0);
      await assert.rejects(
        machines.addMachine({ mac: '52:54:00:00:00:0a', name: 'other' }),
        hasCode('ALREADY_EXISTS'),
      );
      await assert.rejects(
        machines.addMachine({ mac: '52:54:00:00:00:0c', name: 'web-01' }),
        hasCode('ALREADY_EXISTS'),
      );
      await assert.rejects(machines.addMachine({ name: 'nothing' }), hasCode('USAGE'));
      await assert.rejects(
        machines.addMachine({ mac: '52:54:00:00:00:0c', name: '-bad-' }),
        hasCode('INVALID_ARGUMENT'),
      );
      await assert.rejects(
        machines.addMachine({ smbiosUuid: 'not-a-uuid', name: 'x' }),
        hasCode('INVALID_ARGUMENT'),
      );
      const renamed = await machines.updateMachine(web.id, { name: 'web-02', labels: [] });
      assert.deepEqual([renamed.name, renamed.labels], ['web-02', []]);
      await assert.rejects(machines.updateMachine(web.id, { name: 'db-01' }), hasCode('ALREADY_EXISTS'));
      await assert.rejects(machines.updateMachine('nope', { name: 'x' }), hasCode('NOT_FOUND'));
      await assert.rejects(
        machines.updateMachine(web.id, { labels: ['Bad Label'] }),
        hasCode('INVALID_ARGUMENT'),
      );
      await machines.attachMac(uuidOnly.id, '52:54:00:00:00:0d');
      await machines.attachMac(uuidOnly.id, '52:54:00:00:00:0e');
      assert.equal((await machines.findMachine('db-01'))?.mac, '52:54:00:00:00:0d', 'a MAC is attached once');
    },
  );

  storeTest(
    'machines are listed a page at a time, filtered by state and label on the database, read by ids',
    async ({ machines }) => {
      // Ten machines, four seen at the same instant (the id orders those), every third pending.
      const macs: string[] = [];
      for (let i = 0; i < 10; i++) {
        const mac = `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`;
        const now = `2026-02-0${Math.max(1, i - 3)}T00:00:00.000Z`;
        const { machine } = await machines.recordMachineSeen({ mac, now });
        if (i % 3 !== 0) await machines.approveMachine(machine.id);
        await machines.updateMachine(machine.id, { labels: i % 2 === 0 ? ['rack_a', 'even'] : ['rackxa'] });
        macs.push(mac);
      }
      const listed = await machines.listMachines();
      const all = listed.map((m) => m.mac);
      const [one, two] = listed;
      const byId = await machines.getMachines([two?.id ?? '', 'nope', one?.id ?? '', two?.id ?? '']);
      assert.deepEqual(
        [...byId].map(([id, m]) => [id, m.mac]).sort(),
        [one, two].map((m) => [m?.id, m?.mac]).sort(),
      );
      assert.deepEqual([...all].sort(), macs);
      const walk = (filter: { state?: 'pending' | 'ready'; label?: string }, limit: number) =>
        walkPages(limit, async (cursor) => {
          const page = await machines.listMachinePage({ ...filter, limit, cursor });
          return { records: page.machines.map((m) => m.mac), next: page.next };
        });
      assert.deepEqual(await walk({}, 3), { seen: all, pages: 4 });
      assert.deepEqual(await walk({}, 10), { seen: all, pages: 1 });
      const pending = (await machines.listMachines({ state: 'pending' })).map((m) => m.mac);
      assert.equal(pending.length, 4);
      assert.deepEqual((await walk({ state: 'pending' }, 2)).seen, pending);
      // `_` and a look-alike: a label matches exactly, never as a pattern.
      const even = (await machines.listMachines({ label: 'rack_a' })).map((m) => m.mac);
      assert.deepEqual(
        even,
        all.filter((mac) => macs.indexOf(mac ?? '') % 2 === 0),
      );
      assert.deepEqual((await walk({ label: 'rack_a', state: 'ready' }, 1)).seen.length, 3);
      assert.deepEqual(await machines.listMachines({ label: 'rack' }), []);
      assert.deepEqual(await machines.listMachines({ label: 'RACK_A' }), []);
      await assert.rejects(
        machines.listMachinePage({ limit: 5, cursor: 'not a cursor' }),
        hasCode('INVALID_ARGUMENT'),
      );
      await assert.rejects(
        machines.listMachinePage({ limit: 5, cursor: Buffer.from('[1]').toString('base64url') }),
        hasCode('INVALID_ARGUMENT'),
      );
    },
  );
}
