// The boot routes over the machine store (a data directory's SQLite catalog): registration from the iPXE
// variables, the check-in, known machines and deployments, a machine booting from another NIC,
// bad requests, and boot files with ranges.

import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LocatedBootFiles } from '../../src/boot/boot-files.ts';
import { httpBootRoutes, type BootMachineRegistry } from '../../src/boot/http-boot.ts';
import { LocalApp } from '../../src/app/local-app.ts';
import { MachineStore } from '../../src/machines/machine-store.ts';

const opened: { app: LocalApp; dir: string }[] = [];
after(async () => {
  for (const { app, dir } of opened) {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** The boot routes' registry on a data directory of its own. */
async function machineRegistry(): Promise<{
  registry: BootMachineRegistry;
  machines: MachineStore;
  app: LocalApp;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-bootroutes-'));
  const app = await LocalApp.openDataDir(join(dir, 'data'));
  opened.push({ app, dir });
  return { registry: app.bootPorts().registry, machines: new MachineStore(app.database), app };
}

const located: LocatedBootFiles = {
  'undionly.kpxe': '/nonexistent/undionly.kpxe',
  'ipxe.efi': '/nonexistent/ipxe.efi',
  'snponly.efi': '/nonexistent/snponly.efi',
};

function routes(registry: BootMachineRegistry, bootRoot?: string) {
  const events: Record<string, unknown>[] = [];
  const app = httpBootRoutes({
    registry,
    files: { located, bootRoot },
    httpBase: 'http://10.99.0.1:8080',
    log: { log: (_level, msg, fields) => events.push({ msg, ...fields }) },
  });
  return { app, events };
}

const query =
  '/boot/ipxe?mac=52-54-00-12-34-56&uuid=0F3E7C2A-1111-2222-3333-444455556666&serial=S%201&manufacturer=QEMU' +
  '&product=Standard%20PC%20%24%7Bx%7D&buildarch=i386&platform=pcbios';

test('an unknown machine is registered from the iPXE variables and boots local', async () => {
  const { registry, machines } = await machineRegistry();
  const { app, events } = routes(registry);
  const res = await app.request(query);
  assert.equal(res.status, 200);
  const script = await res.text();
  assert.ok(script.startsWith('#!ipxe\n'));
  assert.ok(script.includes('sanboot --no-describe --drive 0x80'));
  const m = await machines.getMachineByMac('52:54:00:12:34:56');
  assert.ok(m);
  assert.equal(m.smbiosUuid, '0f3e7c2a-1111-2222-3333-444455556666');
  assert.deepEqual(
    [m.serial, m.manufacturer, m.product, m.arch, m.platform, m.state],
    ['S 1', 'QEMU', 'Standard PC ${x}', 'i386', 'pcbios', 'pending'],
  );
  const first = events[0];
  assert.ok(first);
  assert.equal(first['registered'], true);
  assert.equal(first['action'], 'local-boot');
});

test('the check-in proves the script ran: its nonce works once, for its MAC only', async () => {
  const { registry, machines } = await machineRegistry();
  const { app, events } = routes(registry);
  const script = await (await app.request(query)).text();
  const url = /imgfetch --name winsmith-checkin (\S+)/.exec(script)?.[1];
  assert.ok(url !== undefined && url.startsWith('http://10.99.0.1:8080/boot/hello?'), script);
  const path = url.slice('http://10.99.0.1:8080'.length);
  const nonce = new URL(url).searchParams.get('nonce') ?? '';
  assert.match(nonce, /^[0-9a-f]{32}$/);
  assert.equal((await app.request(path.replace('52%3A54', '52%3A55'))).status, 404);
  assert.equal((await app.request(path)).status, 200);
  assert.equal((await app.request(path)).status, 404);
  assert.equal((await app.request('/boot/hello?mac=52:54:00:12:34:56&nonce=00')).status, 404);
  const checkIn = (await machines.getMachineByMac('52:54:00:12:34:56'))?.inventory['checkIn'];
  assert.deepEqual(checkIn, { at: (checkIn as { at: string }).at, address: null });
  assert.deepEqual(
    events.filter((e) => e['msg'] === 'boot check-in').map((e) => e['nonce']),
    [nonce],
  );
});

test('known machine: local boot on UEFI with exit, BIOS with sanboot', async () => {
  const { registry, machines } = await machineRegistry();
  const { app } = routes(registry);
  await app.request(query);
  const efi = await (await app.request('/boot/ipxe?mac=525400123456&platform=efi')).text();
  assert.equal(efi.trimEnd().split('\n').at(-1), 'exit');
  const m = await machines.getMachineByMac('52:54:00:12:34:56');
  assert.ok(m);
  const text = await (await app.request(query)).text();
  assert.equal(text.trimEnd().split('\n').at(-1), 'sanboot --no-describe --drive 0x80');
  assert.equal((await machines.listMachines()).length, 1);
});

test('a machine found by its UUID under another MAC keeps its record', async () => {
  const { registry, machines } = await machineRegistry();
  const { app } = routes(registry);
  await app.request(query);
  const other = query.replace('52-54-00-12-34-56', '52-54-00-aa-bb-cc');
  const { events } = routes(registry);
  assert.equal((await app.request(other)).status, 200);
  assert.equal((await machines.listMachines()).length, 1);
  assert.equal(events.length, 0);
});

test('a request without a valid MAC is refused with 400 and registers nothing', async () => {
  const { registry, machines } = await machineRegistry();
  const { app } = routes(registry);
  for (const q of [
    '/boot/ipxe',
    '/boot/ipxe?mac=',
    '/boot/ipxe?mac=52-54-00-12-34',
    '/boot/ipxe?mac=zz-54-00-12-34-56',
  ]) {
    const res = await app.request(q);
    assert.equal(res.status, 400, q);
    assert.match(await res.text(), /expected mac=/);
  }
  assert.equal((await machines.listMachines()).length, 0);
});

test('boot files: whole, ranges, HEAD, 416, names outside the root refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-boot-'));
  try {
    const root = join(dir, 'root');
    await import('node:fs/promises').then((fs) => fs.mkdir(root));
    const data = new Uint8Array(1000).map((_, i) => i % 251);
    await writeFile(join(root, 'wimboot'), data);
    await writeFile(join(dir, 'secret'), 'secret');
    await symlink(join(dir, 'secret'), join(root, 'leak'));
    const { app } = routes((await machineRegistry()).registry, root);
    const whole = await app.request('/boot/files/wimboot');
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), data);
    const part = await app.request('/boot/files/wimboot', { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 100-199/1000');
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), data.slice(100, 200));
    const head = await app.request('/boot/files/wimboot', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '1000');
    for (const range of ['bytes=1000-', 'bytes=0-1,5-9']) {
      const bad = await app.request('/boot/files/wimboot', { headers: { range } });
      assert.equal(bad.status, 416, range);
      assert.equal(bad.headers.get('content-range'), 'bytes */1000');
    }
    // A new copy renamed over the file after the answer started: the body is still the old file's,
    // as long as its content-length says.
    const during = await app.request('/boot/files/wimboot');
    await writeFile(join(dir, 'new'), new Uint8Array(3000));
    await rename(join(dir, 'new'), join(root, 'wimboot'));
    assert.equal(during.headers.get('content-length'), '1000');
    assert.deepEqual(new Uint8Array(await during.arrayBuffer()), data);
    assert.equal(
      (await app.request('/boot/files/wimboot', { method: 'HEAD' })).headers.get('content-length'),
      '3000',
    );
    for (const name of ['leak', '..%2Fsecret', '%2E%2E', 'nothing', 'ipxe.efi']) {
      assert.equal((await app.request(`/boot/files/${name}`)).status, 404, name);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
