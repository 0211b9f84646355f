// GRUB's made-up TFTP files on a real SQLite catalog: a machine's config registers it and is given
// again (same bytes) to a read sent again; its check-in records the Secure Boot state GRUB saw,
// once; the files come through the TFTP server to a real client (curl) on 127.0.0.1; and a machine
// that asks DHCP again (the DHCP server on 127.0.0.1) is answered anew, not with its last boot's
// config; while the deploy environment is prepared, a config is held until it is ready, or for a
// while at most, and then asked for again (not kept).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalApp } from '../../src/app/local-app.ts';
import { startDhcpServer } from '../../src/boot/dhcp-server.ts';
import { grubTftpFiles } from '../../src/boot/grub-boot.ts';
import { startTftpServer } from '../../src/boot/tftp-server.ts';
import { runProgram } from '../../src/engines/run.ts';
import {
  DHCP_MESSAGE_TYPE,
  DHCP_OPT,
  serializeDhcpMessage,
  stringBytes,
} from '../../src/formats/dhcp/dhcp.ts';
import { waitFor } from '../../src/io/wait-for.ts';
import { MachineStore } from '../../src/machines/machine-store.ts';
import { clientMessage } from '../helpers/dhcp.ts';
import { MACHINE_MAC, withDeployFixture } from '../helpers/deploy-fixture.ts';

const MAC = '52:54:00:0a:0b:0c';
const text = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : new TextDecoder().decode(bytes);

test('GRUB config: registers the machine, the same answer to a read sent again, a check-in records Secure Boot once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-grubboot-'));
  const local = await LocalApp.openDataDir(join(dir, 'data'));
  const machines = new MachineStore(local.database);
  try {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const registry = local.bootPorts().registry;
    const { files } = grubTftpFiles({
      registry,
      httpBase: 'http://10.1.2.1:8080',
      now: () => new Date(now),
    });
    const config = text(await files(`grub/winsmith/machine/${MAC}`, '10.1.2.50'));
    assert.ok(config !== null);
    assert.match(config, /^# winsmith boot config for 52:54:00:0a:0b:0c: local-boot$/m);
    const machine = await machines.getMachineByMac(MAC);
    assert.equal(machine?.state, 'pending');
    assert.equal(machine.platform, 'efi');
    assert.equal(machine.secureBoot, null);

    assert.equal(text(await files(`grub/winsmith/machine/${MAC}`, '10.1.2.50')), config, 'a read sent again');
    const other = text(await files(`grub/winsmith/machine/${MAC}`, '10.1.2.51'));
    assert.notEqual(other, config, 'another address gets its own render (its own token)');

    const hello = /source "\$prefix\/(winsmith\/hello\/\S+\/sb-)\$lockdown"/.exec(config)?.[1];
    assert.ok(hello !== undefined, config);
    now += 1000;
    assert.equal(text(await files(`grub/${hello}y`, '10.1.2.50')), 'echo "winsmith: checked in"\n');
    const checkedIn = await machines.getMachineByMac(MAC);
    assert.deepEqual(checkedIn?.secureBoot, { on: true, source: 'grub', at: new Date(now).toISOString() });
    assert.deepEqual(await registry.uefiChainInputs(MAC), { profile: null, secureBoot: true });

    now += 20_000;
    assert.equal(await files(`grub/${hello}`, '10.1.2.50'), null, 'a spent token');
    assert.equal(await files(`grub/${hello}y`, '10.1.2.99'), null, 'a spent token, from elsewhere');
    assert.equal(await files('grub/grub.cfg', '10.1.2.50'), null, 'a file of the root');
    assert.equal(await files(`grub/winsmith/machine/${MAC.toUpperCase()}`, '10.1.2.50'), null);
  } finally {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  'the made-up files come through the TFTP server; the root serves the rest',
  { timeout: 30_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'winsmith-grubtftp-'));
    const local = await LocalApp.openDataDir(join(dir, 'data'));
    const controller = new AbortController();
    try {
      const { files } = grubTftpFiles({
        registry: local.bootPorts().registry,
        httpBase: 'http://127.0.0.1:8080',
      });
      const server = await startTftpServer({
        root: dir,
        port: 0,
        madeFiles: files,
        signal: controller.signal,
      });
      const get = async (name: string): Promise<string> => {
        const out = join(dir, 'out');
        await runProgram('curl', ['-sS', '-o', out, `tftp://127.0.0.1:${String(server.port)}/${name}`]);
        return readFile(out, 'utf8');
      };
      assert.match(await get(`grub/winsmith/machine/${MAC}`), /: local-boot\n[^]*\nexit\n$/);
      await assert.rejects(get(`grub/winsmith/machine/${MAC}/x`), /TFTP|curl/);
    } finally {
      controller.abort();
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  "a machine that asks DHCP again gets a new config, not its last boot's: deployed at once after it was told to boot its disk",
  { timeout: 60_000 },
  async () => {
    await withDeployFixture(async ({ app, session, dir, machineId }) => {
      const controller = new AbortController();
      const grub = grubTftpFiles({
        registry: app.bootPorts().registry,
        httpBase: 'http://127.0.0.1:8080',
        preparingHoldMs: 100,
      });
      const asked: string[] = [];
      try {
        const tftp = await startTftpServer({
          root: dir,
          port: 0,
          madeFiles: grub.files,
          signal: controller.signal,
        });
        // Ports of this test's own (a proxyDHCP server needs two), on 127.0.0.1 only.
        const dhcpPort = 20_000 + Math.floor(Math.random() * 20_000);
        await startDhcpServer({
          mode: 'proxy',
          interface: 'lo',
          bootFiles: { bios: 'undionly.kpxe', uefi: 'ipxe.efi' },
          httpBase: 'http://127.0.0.1:8080',
          serverPort: dhcpPort,
          proxyPort: dhcpPort + 1,
          onRequest: (mac) => {
            grub.restarting(mac);
            asked.push(mac);
          },
          signal: controller.signal,
        });
        // GRUB reads its config from the same UDP port in every boot: only the address and the name tell.
        const config = async (): Promise<string> => {
          const out = join(dir, 'config');
          await runProgram('curl', [
            '-sS',
            '-o',
            out,
            `tftp://127.0.0.1:${String(tftp.port)}/grub/winsmith/machine/${MACHINE_MAC}`,
          ]);
          return readFile(out, 'utf8');
        };
        const action = (text: string): string | undefined =>
          /^# winsmith boot config for \S+: (\S+)$/m.exec(text)?.[1];

        const first = await config();
        assert.equal(action(first), 'local-boot');
        await session.deployments.create({ machine: machineId, profile: 'lab' });
        assert.equal(await config(), first, 'a read sent again, in the same boot');

        // The machine restarts: its firmware's DHCPDISCOVER, as a UEFI PXE client sends it.
        const client = dgram.createSocket('udp4');
        const discover = clientMessage(
          MACHINE_MAC.split(':').map((b) => parseInt(b, 16)),
          [
            { code: DHCP_OPT.MESSAGE_TYPE, data: Uint8Array.of(DHCP_MESSAGE_TYPE.DHCPDISCOVER) },
            { code: DHCP_OPT.CLASS_ID, data: stringBytes('PXEClient:Arch:00007:UNDI:003016') },
          ],
        );
        await new Promise<void>((resolve, reject) =>
          client.send(serializeDhcpMessage(discover), dhcpPort, '127.0.0.1', (e) =>
            e ? reject(e) : resolve(),
          ),
        );
        client.close();
        await waitFor(
          'the DHCP server to see the machine',
          () => (asked.includes(MACHINE_MAC) ? true : null),
          {
            timeoutMs: 10_000,
          },
        );
        const second = await config();
        assert.equal(action(second), 'deploy-preparing', second);
      } finally {
        controller.abort();
      }
    });
  },
);

test('while the deploy environment is prepared, a config is held until it is ready, or answered "preparing" after the hold (or as the server stops) and not kept', async () => {
  await withDeployFixture(async ({ app, session, machineId }) => {
    await session.deployments.create({ machine: machineId, profile: 'lab' });
    let ready = false;
    const environment = {
      kernel: 'winsmith-0123-vmlinuz',
      initrd: 'winsmith-0123-initrd.img',
      commandLine: () => 'quiet',
    };
    const configFor = (holdMs: number) => {
      const { files, stop } = grubTftpFiles({
        registry: app.bootPorts().registry,
        httpBase: 'http://127.0.0.1:8080',
        deployEnvironment: () => (ready ? environment : null),
        preparingHoldMs: holdMs,
      });
      const read = async (): Promise<{ text: string; ms: number }> => {
        const started = performance.now();
        const text = new TextDecoder().decode(
          (await files(`grub/winsmith/machine/${MACHINE_MAC}`, '10.1.2.50')) ?? new Uint8Array(),
        );
        return { text, ms: performance.now() - started };
      };
      return Object.assign(read, { stop });
    };
    const header = (text: string): string | undefined =>
      /^# winsmith boot config for \S+: (\S+)$/m.exec(text)?.[1];

    const short = configFor(400);
    const first = await short();
    assert.equal(header(first.text), 'deploy-preparing');
    assert.ok(first.ms >= 350, `held ${String(first.ms)} ms`);
    assert.ok(!first.text.includes('sleep'), first.text);
    const again = await short();
    assert.equal(header(again.text), 'deploy-preparing');
    assert.notEqual(again.text, first.text, 'asked again: a new render (its own token), not the one kept');

    // The server stopping answers a config held at once.
    const stopping = configFor(30_000);
    const held = stopping();
    setTimeout(() => stopping.stop(), 300);
    const answered = await held;
    assert.equal(header(answered.text), 'deploy-preparing');
    assert.ok(answered.ms < 20_000, `answered as the server stops, after ${String(answered.ms)} ms`);

    setTimeout(() => (ready = true), 300);
    const deploy = await configFor(30_000)();
    assert.equal(header(deploy.text), 'deploy');
    assert.ok(deploy.ms < 20_000, `answered once ready, after ${String(deploy.ms)} ms`);
    assert.match(deploy.text, /^linux \/winsmith-0123-vmlinuz quiet$/m);
  });
});
