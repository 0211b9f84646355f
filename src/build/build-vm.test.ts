import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GiB } from '../image/disk/size.ts';
import { DEFAULT_TIMEOUTS, DEFAULT_VM, type BuildVm } from './build-recipe.ts';
import { buildVmArgs, type BuildVmFiles } from './build-vm.ts';

const VM: BuildVm = { ...DEFAULT_VM, timeouts: DEFAULT_TIMEOUTS };
const FILES: BuildVmFiles = {
  disk: { path: '/b/disk.qcow2', format: 'qcow2' },
  installIso: '/iso/server,2025.iso',
  answerIso: '/b/answer.iso',
  uefi: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/b/vars.fd' },
  qmpSocket: '/b/qmp.sock',
  serialLog: '/b/serial.log',
  tpmSocket: null,
};

/** The value following each occurrence of `flag`. */
function values(args: readonly string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
}

describe('the build VM command line', () => {
  test('UEFI under TCG: OVMF, an AHCI disk, the install and answer CDs, user networking', () => {
    const args = buildVmArgs({ vm: VM, files: FILES, accelerator: 'tcg' });
    assert.deepEqual(values(args, '-machine'), ['q35,accel=tcg']);
    assert.deepEqual(values(args, '-cpu'), ['max']);
    assert.deepEqual(values(args, '-smp'), ['2']);
    assert.deepEqual(values(args, '-m'), ['4096']);
    assert.deepEqual(values(args, '-drive'), [
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      'if=pflash,format=raw,unit=1,file=/b/vars.fd',
      'if=none,id=disk0,format=qcow2,file=/b/disk.qcow2',
      'if=none,id=cd0,media=cdrom,readonly=on,file=/iso/server,,2025.iso',
      'if=none,id=cd1,media=cdrom,readonly=on,file=/b/answer.iso',
    ]);
    assert.deepEqual(values(args, '-device'), [
      'ahci,id=sata',
      'ide-hd,drive=disk0,bus=sata.0,bootindex=0',
      'ide-cd,drive=cd0,bus=sata.1,bootindex=1',
      'ide-cd,drive=cd1,bus=sata.2',
      'e1000e,netdev=n0',
    ]);
    assert.deepEqual(values(args, '-netdev'), ['user,id=n0']);
    assert.deepEqual(values(args, '-qmp'), ['unix:/b/qmp.sock,server=on,wait=off']);
    assert.deepEqual(values(args, '-serial'), ['chardev:serial0']);
    assert.deepEqual(values(args, '-chardev'), ['file,id=serial0,path=/b/serial.log,append=on']);
    assert.ok(!args.includes('-no-reboot'), 'Windows Setup restarts several times');
    assert.deepEqual(values(args, '-action'), ['reboot=shutdown'], 'each restart stops QEMU');
  });

  test('BIOS under KVM with a TPM and extra media', () => {
    const vm: BuildVm = {
      ...VM,
      firmware: 'bios',
      cpus: 4,
      memoryBytes: 6 * GiB,
      tpm: true,
      media: ['/iso/virtio-win.iso'],
    };
    const args = buildVmArgs({
      vm,
      files: { ...FILES, uefi: null, tpmSocket: '/b/tpm.sock' },
      accelerator: 'kvm',
    });
    assert.deepEqual(values(args, '-machine'), ['q35,accel=kvm']);
    assert.deepEqual(values(args, '-cpu'), ['host']);
    assert.deepEqual(values(args, '-m'), ['6144']);
    assert.ok(!values(args, '-drive').some((d) => d.startsWith('if=pflash')));
    assert.ok(
      values(args, '-drive').includes('if=none,id=cd2,media=cdrom,readonly=on,file=/iso/virtio-win.iso'),
    );
    assert.deepEqual(values(args, '-netdev'), ['user,id=n0']);
    assert.deepEqual(values(args, '-tpmdev'), ['emulator,id=tpm0,chardev=tpm0chr']);
    assert.ok(values(args, '-chardev').includes('socket,id=tpm0chr,path=/b/tpm.sock'));
    assert.ok(values(args, '-device').includes('tpm-crb,tpmdev=tpm0'));
  });

  test('servicing: no installation ISO, the answer CD first', () => {
    const args = buildVmArgs({
      vm: VM,
      files: { ...FILES, installIso: null },
      accelerator: 'tcg',
    });
    assert.ok(values(args, '-device').includes('ide-cd,drive=cd0,bus=sata.1,bootindex=1'));
    assert.ok(values(args, '-drive').includes('if=none,id=cd0,media=cdrom,readonly=on,file=/b/answer.iso'));
  });

  test('a UEFI VM without OVMF files, or a TPM without its socket, is a programming error', () => {
    assert.throws(() => buildVmArgs({ vm: VM, files: { ...FILES, uefi: null }, accelerator: 'tcg' }));
    assert.throws(() => buildVmArgs({ vm: { ...VM, tpm: true }, files: FILES, accelerator: 'tcg' }));
  });
});
