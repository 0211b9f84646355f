// A machine without a deployment is never written. Inside a lab network, the real `winsmith server`
// (DHCP in full mode) boots two VMs with disks of random bytes: a BIOS machine it does not know,
// which registers itself (pending), and a UEFI machine an operator registered (ready) but gave no
// deployment. Each runs its boot script, which boots its local disk; the deploy environment is never
// asked for. After the firmware has tried the disk, both disks hold the same bytes as before.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LocalApp } from '../../src/app/local-app.ts';
import { localActor } from '../../src/app/open-session.ts';
import { listAllMachines } from '../../src/app/session.ts';
import { netnsUnavailable } from '../../src/engines/netns.ts';
import { randomMac, vmUnavailable, type VmFirmware } from '../../src/engines/qemu-system.ts';
import { LabServer } from '../../src/lab/lab-server.ts';
import { LabVm } from '../../src/lab/lab-vm.ts';
import { waitFor } from '../../src/io/wait-for.ts';
import { withLabNetwork } from '../helpers/lab-network.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const DISK_BYTES = 64 * 1024 * 1024;
/** Both VMs to their local boot under TCG: about a minute, with room for a busy host. */
const BOOT_TIMEOUT_MS = 360_000;

/**
 * What each firmware prints once its boot script gave the machine back to it and it tried the disk:
 * SeaBIOS after every device failed; iPXE on UEFI as it returns to the firmware's boot manager.
 */
const LOCAL_BOOT_TRIED: Readonly<Record<VmFirmware, RegExp>> = {
  bios: /booting from the local disk[\s\S]*No bootable device\./,
  uefi: /booting from the local disk[\s\S]*No more network devices/,
};

const skip =
  (await netnsUnavailable()) ?? (await vmUnavailable('bios')) ?? (await vmUnavailable('uefi')) ?? false;

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** A raw disk of random bytes that no firmware takes for a boot disk (no 55 AA at 510). */
async function randomDisk(path: string): Promise<string> {
  const bytes = randomBytes(DISK_BYTES);
  bytes[510] = 0;
  bytes[511] = 0;
  await writeFile(path, bytes);
  return sha256Of(path);
}

test(
  'machines with no deployment, unknown or ready, boot their local disk and their disks are not written',
  { skip, timeout: BOOT_TIMEOUT_MS + 120_000 },
  () =>
    withLabNetwork(async (network) => {
      const data = join(network.dir, 'data');
      const knownMac = randomMac();
      const app = await LocalApp.openDataDir(data);
      try {
        await app.as(localActor()).machines.add({ name: 'known', mac: knownMac });
      } finally {
        await app.close();
      }
      const server = await LabServer.start(
        network,
        { main: MAIN, data, bootenv: null },
        new AbortController().signal,
      );
      const cases = [
        { name: 'unknown', firmware: 'bios' as const },
        { name: 'known', firmware: 'uefi' as const, mac: knownMac },
      ];
      const vms: { vm: LabVm; disk: string; before: string }[] = [];
      for (const c of cases) {
        const disk = join(network.dir, `${c.name}.raw`);
        const before = await randomDisk(disk);
        const vm = await LabVm.create(network, { ...c, disk: { path: disk, format: 'raw' } });
        vm.powerOn();
        vms.push({ vm, disk, before });
      }
      await Promise.all(
        vms.map(({ vm }) =>
          waitFor(
            `${vm.name} (${vm.firmware}) to run its boot script and try its local disk`,
            () => {
              const console = vm.process?.output() ?? '';
              const checkedIn = server.log().some((l) => l.msg === 'boot check-in' && l.mac === vm.mac);
              return checkedIn && LOCAL_BOOT_TRIED[vm.firmware].test(console) ? true : null;
            },
            { timeoutMs: BOOT_TIMEOUT_MS, everyMs: 1000 },
          ),
        ),
      );
      for (const { vm } of vms) await vm.powerOff();
      await server.stop();

      for (const { vm, disk, before } of vms) {
        assert.equal(await sha256Of(disk), before, `${vm.name}'s disk is unchanged`);
        const scripts = server.log().filter((l) => l.msg === 'boot script' && l.mac === vm.mac);
        assert.ok(scripts.length > 0);
        assert.ok(scripts.every((l) => l.action === 'local-boot'));
      }
      const asked = server
        .log()
        .filter((l) => l.msg.startsWith('deploy environment') || l.msg === 'boot file');
      assert.deepEqual(asked, [], 'nothing of the deploy environment was asked for');

      const after = await LocalApp.openDataDir(data);
      try {
        const session = after.as(localActor());
        const machines = await listAllMachines(session.machines, {});
        const stateOf = (mac: string): string | undefined => machines.find((m) => m.mac === mac)?.state;
        assert.equal(stateOf(vms[0]?.vm.mac ?? ''), 'pending');
        assert.equal(stateOf(knownMac), 'ready');
        assert.ok(machines.every((m) => m.deployment === null));
        assert.deepEqual(await session.deployments.list({}), []);
      } finally {
        await after.close();
      }
    }),
);
