// The boot routes on a real SQLite catalog: registration, refresh, check-in, deployment placeholder.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { catalogBootRegistry } from '../../src/boot/catalog-registry.ts';
import { httpBootRoutes } from '../../src/boot/http-boot.ts';
import { Catalog } from '../../src/store/catalog/catalog.ts';

const located = {
  'undionly.kpxe': '/usr/lib/ipxe/undionly.kpxe',
  'ipxe.efi': '/usr/lib/ipxe/ipxe.efi',
  'snponly.efi': '/usr/lib/ipxe/snponly.efi',
};

test(
  'iPXE requests register, refresh and check in machines in the catalog',
  { timeout: 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'winsmith-bootcat-'));
    const catalog = await Catalog.open({ kind: 'sqlite', path: join(dir, 'catalog.sqlite') });
    try {
      const app = httpBootRoutes({
        registry: catalogBootRegistry(catalog),
        files: { located },
        httpBase: 'http://10.1.2.1:8080',
      });
      const q =
        '/boot/ipxe?mac=52-54-00-0a-0b-0c&uuid=00000000-0000-0000-0000-000000000000&manufacturer=QEMU' +
        '&product=Standard%20PC&buildarch=x86_64&platform=efi';
      const script = await (await app.request(q)).text();
      assert.equal(script.trimEnd().split('\n').at(-1), 'exit');
      const [machine, ...others] = await catalog.listMachines();
      assert.equal(others.length, 0);
      assert.ok(machine);
      assert.equal(machine.mac, '52:54:00:0a:0b:0c');
      assert.equal(machine.smbiosUuid, null);
      assert.equal(machine.manufacturer, 'QEMU');
      assert.equal(machine.arch, 'x86_64');
      assert.equal(machine.platform, 'efi');

      const hello = /imgfetch --name winsmith-checkin http:\/\/10\.1\.2\.1:8080(\S+)/.exec(script)?.[1];
      assert.ok(hello !== undefined, script);
      assert.equal((await app.request(hello)).status, 200);
      const checkedIn = await catalog.getMachineByMac('52:54:00:0a:0b:0c');
      assert.ok(checkedIn);
      const checkIn = checkedIn.inventory['checkIn'] as { at: string; address: unknown };
      assert.equal(checkIn.at, checkedIn.lastSeen);
      assert.ok(checkedIn.lastSeen >= machine.lastSeen);

      await catalog.assignDeployment(machine.id, 'dep-1');
      const deploy = await (await app.request(q.replace('platform=efi', 'platform=pcbios'))).text();
      assert.match(deploy, /deployment dep-1 is assigned/);
      assert.equal((await catalog.getMachineByMac('52:54:00:0a:0b:0c'))?.platform, 'pcbios');

      const file = await app.request('/boot/files/undionly.kpxe', { headers: { range: 'bytes=0-1' } });
      assert.equal(file.status, 206);
      assert.equal((await file.arrayBuffer()).byteLength, 2);
    } finally {
      await catalog.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
