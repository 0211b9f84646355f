// Whether QEMU can use KVM here, found by starting a VM with it as builds do (q35, the host's CPU,
// paused, no devices) rather than by looking for /dev/kvm: the file can be there and still refuse
// (no permission, nested virtualization off, a sandbox that emulates the device but not the CPU's
// registers), which shows only when the virtual CPU is made.

import { setTimeout as sleep } from 'node:timers/promises';
import { startService } from './run.ts';

/** How long a VM that KVM accepts is given to fail before it counts as started. */
const PROBE_MS = 1500;

/** null when KVM works; otherwise why not, in QEMU's words. */
export async function kvmUnavailable(): Promise<string | null> {
  const vm = startService('qemu-system-x86_64', [
    ...['-machine', 'q35,accel=kvm', '-cpu', 'host', '-m', '64'],
    ...['-nodefaults', '-display', 'none', '-S'],
  ]);
  const ended = await Promise.race([vm.exited, sleep(PROBE_MS).then(() => null)]);
  if (ended === null) {
    await vm.stop(1000);
    return null;
  }
  const said = vm.output().trim().split('\n').at(-1);
  return (
    ended.error?.message ??
    (said === undefined || said === '' ? `QEMU exited with ${String(ended.code)}` : said)
  );
}
