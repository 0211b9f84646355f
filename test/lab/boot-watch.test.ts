// A lab VM's power-on watched for progress, on the lines a lab server logged and the console OVMF
// wrote when a Secure Boot VM was given its last boot's GRUB config ("no deployment") and sat at
// the firmware's boot menu: the stall is told once nothing has come for the bound, naming the last
// step the server saw; the server's lines of other machines, and of none, do not count.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BootWatch, lastConsoleLine } from '../../src/lab/boot-watch.ts';
import type { ServerLogLine } from '../../src/lab/lab-server.ts';

const MAC = '52:54:00:fa:62:67';
const STALL_MS = 60_000;

const ACK: ServerLogLine = {
  msg: `DHCP DHCPACK to ${MAC} 10.190.33.100 file shimx64.efi`,
  client: '0.0.0.0:68',
};
const CONFIG: ServerLogLine = {
  msg: 'TFTP transfer done',
  client: '10.190.33.100:25305',
  file: `/grub/winsmith/machine/${MAC}`,
};
const BOOT_MENU =
  'winsmith: no deployment assigned, booting from the local disk\r\n' +
  'BdsDxe: loading Boot0000 "UiApp" from Fv(7CB8BDC9)/FvFile(462CAA21)\r\n' +
  'BdsDxe: starting Boot0000 "UiApp" from Fv(7CB8BDC9)/FvFile(462CAA21)\x1b[2J\x1b[01;01H\x1b[=3h\x1b[0m\x1b[30m\x1b[40m\x1b[01;01H      ';

test("the console's last line, without the terminal's escape sequences", () => {
  assert.equal(
    lastConsoleLine(BOOT_MENU),
    'BdsDxe: starting Boot0000 "UiApp" from Fv(7CB8BDC9)/FvFile(462CAA21)',
  );
  assert.equal(lastConsoleLine(''), '');
});

test('a VM that shows nothing new for the bound has stalled, and the error names the last step', () => {
  let now = 1_000_000;
  const watch = new BootWatch(MAC, now, STALL_MS);
  watch.serverLine(ACK, (now += 5_000));
  // GRUB's read of its config: known as the VM's by the address DHCP gave it.
  watch.serverLine(CONFIG, (now += 10_000));
  assert.equal(watch.check({ console: BOOT_MENU, deployment: '', packets: 40 }, now), null);
  // Other machines, and the server's own business, are no progress of this VM.
  watch.serverLine({ msg: 'TFTP transfer done', client: '10.190.33.101:25305', file: 'x' }, now + 1000);
  watch.serverLine({ msg: 'DHCP DHCPACK to 52:54:00:00:00:01 10.190.33.101' }, now + 2000);
  watch.serverLine({ msg: 'request', client: '10.190.33.1', path: '/api/v1/machines' }, now + 3000);
  assert.equal(watch.check({ console: BOOT_MENU, deployment: '', packets: 40 }, now + STALL_MS - 1), null);
  const stalled = watch.check({ console: BOOT_MENU, deployment: '', packets: 40 }, now + STALL_MS);
  assert.ok(stalled !== null);
  assert.equal(stalled.code, 'TIMED_OUT');
  assert.equal(
    stalled.message,
    `the VM made no progress for 60 s: the server last did "TFTP transfer done /grub/winsmith/machine/${MAC}" for it 60 s ago, and its console ends "BdsDxe: starting Boot0000 "UiApp" from Fv(7CB8BDC9)/FvFile(462CAA21)"`,
  );
});

test("the console's output, the deployment's changes, the server's lines for the VM and its packets are progress", () => {
  let now = 0;
  const watch = new BootWatch(MAC, now, STALL_MS);
  now += STALL_MS - 1000;
  const linux = { console: 'Linux version 6.1\n', deployment: '', packets: 10 };
  assert.equal(watch.check(linux, now), null, 'the console grew');
  now += STALL_MS - 1000;
  const deploying = { ...linux, deployment: '2026-12-07T03:01:23.809Z' };
  assert.equal(watch.check(deploying, now), null, 'the deployment');
  now += STALL_MS - 1000;
  watch.serverLine({ msg: 'boot script', mac: MAC, action: 'deploy' }, now);
  now += STALL_MS - 1000;
  assert.equal(watch.check(deploying, now), null, 'a boot script');
  now += STALL_MS - 1000;
  // A TFTP transfer under way: only the VM's acknowledgements tell.
  assert.equal(watch.check({ ...deploying, packets: 5000 }, now), null, 'packets sent');
  assert.equal(watch.check({ ...deploying, packets: null }, now + STALL_MS - 1), null, 'the VM off: unknown');
  const stalled = watch.check({ ...deploying, packets: 5000 }, now + STALL_MS);
  assert.match(stalled?.message ?? '', /: the server last did "boot script deploy" for it 178 s ago, /);
  const silent = new BootWatch(MAC, 0, STALL_MS).check(
    { console: '', deployment: '', packets: null },
    STALL_MS,
  );
  assert.match(silent?.message ?? '', /: the server has seen nothing of it since it was powered on, /);
});
