// GRUB's made-up TFTP files on a real SQLite catalog: a machine's config registers it and is given
// again (same bytes) to a read sent again; its check-in records the Secure Boot state GRUB saw,
// once; and the files come through the TFTP server to a real client (curl) on 127.0.0.1.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalApp } from '../../src/app/local-app.ts';
import { grubTftpFiles } from '../../src/boot/grub-boot.ts';
import { startTftpServer } from '../../src/boot/tftp-server.ts';
import { runProgram } from '../../src/engines/run.ts';
import { MachineStore } from '../../src/machines/machine-store.ts';

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
    const files = grubTftpFiles({ registry, httpBase: 'http://10.1.2.1:8080', now: () => new Date(now) });
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
      const files = grubTftpFiles({
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
