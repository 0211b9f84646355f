// The end of a deployment on the machine: every written block sent to the disks (sync), then the
// machine restarted or powered off at once through the kernel's SysRq trigger
// (Documentation/admin-guide/sysrq.rst: "b" reboots, "o" powers off; writing to
// /proc/sysrq-trigger works for root whatever kernel.sysrq says). It needs no init system, which
// the deploy environment does not have to run.

import { writeFile } from 'node:fs/promises';
import { syncAll } from '../engines/block-devices.ts';

const SYSRQ: Readonly<Record<'reboot' | 'poweroff', string>> = { reboot: 'b', poweroff: 'o' };

export async function finishMachine(
  action: 'reboot' | 'poweroff',
  trigger = '/proc/sysrq-trigger',
): Promise<void> {
  await syncAll();
  await writeFile(trigger, SYSRQ[action]);
}
