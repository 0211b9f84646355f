// The boot routes on a real SQLite catalog: registration (within its limits), refresh, check-in,
// and the address scripts send machines to.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serve } from '@hono/node-server';
import { httpBootRoutes } from '../../src/boot/http-boot.ts';
import type { JobEvent } from '../../src/app/events.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import type { BootMachineRegistry } from '../../src/boot/http-boot.ts';
import { MachineStore } from '../../src/machines/machine-store.ts';

const located = {
  'undionly.kpxe': '/usr/lib/ipxe/undionly.kpxe',
  'ipxe.efi': '/usr/lib/ipxe/ipxe.efi',
  'snponly.efi': '/usr/lib/ipxe/snponly.efi',
};

test(
  'iPXE requests register (announcing the machine once), refresh and check in machines in the machines',
  { timeout: 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'winsmith-bootcat-'));
    const local = await LocalApp.openDataDir(join(dir, 'data'));
    const machines = new MachineStore(local.database);
    const events: JobEvent[] = [];
    local.events.subscribe((e) => events.push(e));
    try {
      const app = httpBootRoutes({
        registry: local.bootPorts().registry,
        files: { located },
        httpBase: 'http://10.1.2.1:8080',
      });
      const q =
        '/boot/ipxe?mac=52-54-00-0a-0b-0c&uuid=00000000-0000-0000-0000-000000000000&manufacturer=QEMU' +
        '&product=Standard%20PC&buildarch=x86_64&platform=efi';
      const script = await (await app.request(q)).text();
      assert.equal(script.trimEnd().split('\n').at(-1), 'exit');
      const [machine, ...others] = await machines.listMachines();
      assert.equal(others.length, 0);
      assert.ok(machine);
      assert.equal(machine.mac, '52:54:00:0a:0b:0c');
      assert.equal(machine.smbiosUuid, null);
      assert.equal(machine.manufacturer, 'QEMU');
      assert.equal(machine.arch, 'x86_64');
      assert.equal(machine.platform, 'efi');
      // Announced to whoever may read machines, as the API shows it.
      const [announced, ...more] = events;
      assert.equal(more.length, 0);
      assert.deepEqual(announced, {
        job: `machine-${machine.id}`,
        audience: { action: 'machines.read', image: null },
        kind: 'machine',
        result: { ...machine, deployment: null },
      });

      const hello = /imgfetch --name winsmith-checkin http:\/\/10\.1\.2\.1:8080(\S+)/.exec(script)?.[1];
      assert.ok(hello !== undefined, script);
      assert.equal((await app.request(hello)).status, 200);
      const checkedIn = await machines.getMachineByMac('52:54:00:0a:0b:0c');
      assert.ok(checkedIn);
      const checkIn = checkedIn.inventory['checkIn'] as { at: string; address: unknown };
      assert.equal(checkIn.at, checkedIn.lastSeen);
      assert.ok(checkedIn.lastSeen >= machine.lastSeen);

      const bios = await (await app.request(q.replace('platform=efi', 'platform=pcbios'))).text();
      assert.equal(bios.trimEnd().split('\n').at(-1), 'sanboot --no-describe --drive 0x80');
      assert.equal((await machines.getMachineByMac('52:54:00:0a:0b:0c'))?.platform, 'pcbios');
      assert.equal(events.length, 1, 'a machine booting again is not announced again');

      const file = await app.request('/boot/files/undionly.kpxe', { headers: { range: 'bytes=0-1' } });
      assert.equal(file.status, 206);
      assert.equal((await file.arrayBuffer()).byteLength, 2);
    } finally {
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);

/** The boot routes on a new SQLite machines, to `fn`; closed and removed after. */
async function withBootCatalog(
  fn: (
    machines: MachineStore,
    registry: BootMachineRegistry,
    log: Record<string, unknown>[],
  ) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-bootcat-'));
  const local = await LocalApp.openDataDir(join(dir, 'data'));
  try {
    await fn(new MachineStore(local.database), local.bootPorts().registry, []);
  } finally {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const macOf = (i: number): string =>
  `52-54-00-00-${((i >> 8) & 0xff).toString(16).padStart(2, '0')}-${(i & 0xff).toString(16).padStart(2, '0')}`;

test('unknown machines register within a rate per address and a cap of pending ones; known ones always boot', async () => {
  await withBootCatalog(async (machines, registry, lines) => {
    const app = httpBootRoutes({
      registry,
      files: { located },
      httpBase: 'http://10.1.2.1:8080',
      registration: { perAddressPerMinute: 10, maxPending: 1000 },
      log: { log: (_level, msg, fields) => lines.push({ msg, ...fields }) },
    });
    const scripts: string[] = [];
    for (let i = 0; i < 40; i++) scripts.push(await (await app.request(`/boot/ipxe?mac=${macOf(i)}`)).text());
    assert.equal((await machines.listMachines()).length, 10);
    assert.equal(await machines.countMachines('pending'), 10);
    assert.ok(scripts.slice(0, 10).every((s) => s.includes('winsmith-checkin')));
    assert.ok(
      scripts
        .slice(10)
        .every((s) => !s.includes('winsmith-checkin') && s.includes('booting from the local disk')),
    );
    const refused = lines.filter((l) => l.msg === 'machine registration refused');
    assert.equal(refused.length, 1, 'a flood is logged once a minute');
    assert.equal(refused[0]?.reason, 'address-rate');
    // A registered machine boots and checks in whatever the flood.
    const again = await (await app.request(`/boot/ipxe?mac=${macOf(3)}`)).text();
    const hello = /imgfetch --name winsmith-checkin http:\/\/10\.1\.2\.1:8080(\S+)/.exec(again)?.[1];
    assert.ok(hello !== undefined, again);
    assert.equal((await app.request(hello)).status, 200);
  });
});

test('past the cap of pending machines nothing registers; a check-in never registers a machine', async () => {
  await withBootCatalog(async (machines, registry) => {
    const app = httpBootRoutes({
      registry,
      files: { located },
      httpBase: 'http://10.1.2.1:8080',
      registration: { perAddressPerMinute: 1000, maxPending: 5 },
    });
    for (let i = 0; i < 20; i++) await app.request(`/boot/ipxe?mac=${macOf(i)}`);
    assert.equal(await machines.countMachines('pending'), 5);
    const hello = await app.request(`/boot/hello?mac=${macOf(19)}&nonce=${'0'.repeat(32)}`);
    assert.equal(hello.status, 404);
    assert.equal((await machines.listMachines()).length, 5);
  });
});

test('the script sends machines to the address the request came to, never to its Host header', async () => {
  await withBootCatalog(async (_machines, registry) => {
    const app = httpBootRoutes({ registry, files: { located } });
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const script = await new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: `/boot/ipxe?mac=${macOf(1)}`,
            headers: { host: 'evil.example:666' },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.match(script, new RegExp(`http://127\\.0\\.0\\.1:${port}/boot/hello`));
      assert.doesNotMatch(script, /evil/);
    } finally {
      server.close();
    }
  });
});
