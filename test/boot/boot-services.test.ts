// The boot parts of `winsmith server`: iPXE builds installed into the boot root, served over TFTP
// (read by curl, a real client) and HTTP, with GRUB's grub.cfg and the configs TFTP makes up for it,
// and the TFTP service stopping with the server's signal.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_REGISTRATION_LIMITS } from '../../src/boot/registration-gate.ts';
import { bootParts, installIpxe, type BootSettings } from '../../src/boot/boot-services.ts';
import { GRUB_MAIN_CONFIG } from '../../src/boot/grub-config.ts';
import { runProgram } from '../../src/engines/run.ts';
import { LocalApp } from '../../src/app/local-app.ts';

test(
  'boot root gets the iPXE builds; TFTP and /boot/files serve them; abort stops TFTP',
  { timeout: 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'winsmith-bootsvc-'));
    const local = await LocalApp.openDataDir(join(dir, 'data'));
    const controller = new AbortController();
    try {
      const settings: BootSettings = {
        bootRoot: join(dir, 'boot'),
        ipxeDir: null,
        tftp: { host: '127.0.0.1', port: 0, maxTimeoutSeconds: null, maxPerAddress: null },
        httpBase: null,
        dhcp: null,
        deployEnvironment: null,
        uefiChain: 'auto',
      };
      const events: { msg: string; fields: Readonly<Record<string, unknown>> }[] = [];
      const log = {
        log: (_l: string, msg: string, fields: Readonly<Record<string, unknown>> = {}) =>
          events.push({ msg, fields }),
      };
      const located = await installIpxe(settings, log);
      const { routes, services } = bootParts(settings, located, {
        ...local.bootPorts(),
        log,
        listen: () => ({ host: '127.0.0.1', port: 8080, secure: false }),
        registration: DEFAULT_REGISTRATION_LIMITS,
        deployEnvironment: () => null,
      });
      assert.deepEqual(
        services.map((s) => s.name),
        ['tftp'],
      );
      const [tftp] = services;
      assert.ok(tftp);
      const running = tftp.start(controller.signal, () => undefined);
      let port: unknown;
      for (let i = 0; i < 100 && port === undefined; i++) {
        port = events.find((e) => e.msg === 'tftp listening')?.fields['port'];
        if (port === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(typeof port, 'number');
      const original = await readFile('/usr/lib/ipxe/undionly.kpxe');
      const out = join(dir, 'fetched.kpxe');
      await runProgram('curl', [
        '-sS',
        '--tftp-blksize',
        '1468',
        '-o',
        out,
        `tftp://127.0.0.1:${String(port)}/undionly.kpxe`,
      ]);
      assert.deepEqual(await readFile(out), original);
      // GRUB's fixed grub.cfg, and a machine's own config made up by TFTP (the listen address is
      // the one the agent is sent to).
      const tftpGet = async (name: string): Promise<string> => {
        await runProgram('curl', ['-sS', '-o', out, `tftp://127.0.0.1:${String(port)}/${name}`]);
        return readFile(out, 'utf8');
      };
      assert.equal(await tftpGet('grub/grub.cfg'), GRUB_MAIN_CONFIG);
      assert.match(await tftpGet('grub/winsmith/machine/52:54:00:00:00:07'), /: local-boot\n/);
      const http = await routes.request('/boot/files/undionly.kpxe');
      assert.equal(http.status, 200);
      assert.deepEqual(Buffer.from(await http.arrayBuffer()), original);
      controller.abort();
      await running;
    } finally {
      controller.abort();
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
