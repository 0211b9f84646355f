import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { qemuVmArgs, randomMac, VM_FIRMWARE_FILES, type VmSpec } from './qemu-system.ts';

const SPEC: VmSpec = {
  firmware: 'bios',
  tap: 'tap0',
  mac: '52:54:00:12:34:56',
  uuid: '4c4c4544-0042-3510-8052-b4c04f4b4d31',
  memoryMiB: 512,
  uefiVars: null,
  disk: null,
};

/** The value after each `flag` in `args`. */
function values(args: readonly string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
}

test('a BIOS VM: TCG, one CPU, the e1000 with its iPXE ROM on the tap, network boot first', () => {
  const args = qemuVmArgs(SPEC);
  assert.deepEqual(values(args, '-accel'), ['tcg']);
  assert.deepEqual(values(args, '-smp'), ['1']);
  assert.deepEqual(values(args, '-m'), ['512']);
  assert.deepEqual(values(args, '-uuid'), [SPEC.uuid]);
  assert.ok(args.includes('-no-reboot'));
  assert.deepEqual(values(args, '-netdev'), ['tap,id=n0,ifname=tap0,script=no,downscript=no']);
  assert.deepEqual(values(args, '-device'), [
    `e1000,netdev=n0,mac=${SPEC.mac},romfile=${VM_FIRMWARE_FILES.biosNicRom.path}`,
  ]);
  assert.deepEqual(values(args, '-drive'), []);
  assert.deepEqual(args.slice(-2), ['-boot', 'n']);
});

test('a UEFI VM: q35, OVMF read-only with its own variable store, virtio-net, a virtio disk', () => {
  const args = qemuVmArgs({
    ...SPEC,
    firmware: 'uefi',
    uefiVars: '/lab/vm-vars.fd',
    disk: { path: '/lab/a,b.qcow2', format: 'qcow2' },
  });
  assert.deepEqual(values(args, '-machine'), ['q35']);
  assert.deepEqual(values(args, '-drive'), [
    `if=pflash,format=raw,unit=0,readonly=on,file=${VM_FIRMWARE_FILES.ovmfCode.path}`,
    'if=pflash,format=raw,unit=1,file=/lab/vm-vars.fd',
    'file=/lab/a,,b.qcow2,format=qcow2,if=virtio',
  ]);
  assert.deepEqual(values(args, '-device'), [`virtio-net-pci,netdev=n0,romfile=,mac=${SPEC.mac}`]);
});

test('a UEFI VM without its variable store is refused', () => {
  assert.throws(
    () => qemuVmArgs({ ...SPEC, firmware: 'uefi' }),
    (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT',
  );
});

test("random MACs are unicast, locally administered, in QEMU's 52:54:00 range", () => {
  const macs = new Set(Array.from({ length: 64 }, randomMac));
  assert.ok(macs.size > 60);
  for (const mac of macs) assert.match(mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
});
