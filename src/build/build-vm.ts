// The QEMU command line of a build VM, from the recipe's vm section: pure, so every option is
// tested without starting anything. The devices are those Windows Setup has drivers for without
// any added media (AHCI disks and CD drives, an e1000e NIC, a standard VGA the screenshots read);
// QEMU's user-mode network lets the guest reach the host's loopback at 10.0.2.2, where winsmith
// takes the provisioning reports. The guest powers itself off at the end (Sysprep /shutdown), and
// each of its restarts stops QEMU too.

import type { BuildVm } from './build-recipe.ts';

export type Accelerator = 'kvm' | 'tcg';

/** OVMF's code and a copy of its variable store (one per build), for UEFI. */
export interface UefiFiles {
  readonly code: string;
  readonly vars: string;
}

export interface BuildVmFiles {
  readonly disk: { readonly path: string; readonly format: 'qcow2' | 'raw' };
  /** Windows' installation ISO; none when servicing an image (the disk is made from it). */
  readonly installIso: string | null;
  readonly answerIso: string;
  readonly uefi: UefiFiles | null;
  /** The QMP socket winsmith watches the VM through (screenshots, power, keys). */
  readonly qmpSocket: string;
  readonly serialLog: string;
  /** swtpm's control socket when the recipe asks for a TPM. */
  readonly tpmSocket: string | null;
}

export interface BuildVmOptions {
  readonly vm: BuildVm;
  readonly files: BuildVmFiles;
  readonly accelerator: Accelerator;
}

/** A value inside a QEMU option list: a comma is written twice. */
function optionValue(text: string): string {
  return text.replaceAll(',', ',,');
}

const MiB = 1024 * 1024;

export function buildVmArgs(options: BuildVmOptions): string[] {
  const { vm, files } = options;
  const args = [
    ...['-machine', options.accelerator === 'kvm' ? 'q35,accel=kvm' : 'q35,accel=tcg'],
    // TCG's default CPU lacks what Windows Server 2025 requires (SSE4.2, POPCNT): take all it can do.
    ...['-cpu', options.accelerator === 'kvm' ? 'host' : 'max'],
    ...['-smp', String(vm.cpus), '-m', String(Math.floor(vm.memoryBytes / MiB))],
    ...['-display', 'none', '-vga', 'std'],
    // Each restart of the guest stops QEMU: a moment the disk is at rest (src/build/build-phases.ts).
    ...['-action', 'reboot=shutdown'],
    ...['-qmp', `unix:${optionValue(files.qmpSocket)},server=on,wait=off`],
    // Appended to, so that the log holds every power-on of the build, one after the other.
    ...['-chardev', `file,id=serial0,path=${optionValue(files.serialLog)},append=on`],
    ...['-serial', 'chardev:serial0'],
  ];
  if (vm.firmware === 'uefi') {
    if (files.uefi === null) throw new Error('a UEFI build VM needs OVMF code and variables');
    args.push(
      ...['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${optionValue(files.uefi.code)}`],
      ...['-drive', `if=pflash,format=raw,unit=1,file=${optionValue(files.uefi.vars)}`],
    );
  }
  args.push(
    ...['-device', 'ahci,id=sata'],
    ...['-drive', `if=none,id=disk0,format=${files.disk.format},file=${optionValue(files.disk.path)}`],
    ...['-device', 'ide-hd,drive=disk0,bus=sata.0,bootindex=0'],
  );
  const cds = [files.installIso, files.answerIso, ...vm.media].filter((p): p is string => p !== null);
  cds.forEach((iso, n) => {
    args.push(
      ...['-drive', `if=none,id=cd${n},media=cdrom,readonly=on,file=${optionValue(iso)}`],
      // The installation ISO boots when the disk has nothing to boot yet.
      ...['-device', `ide-cd,drive=cd${n},bus=sata.${n + 1}${n === 0 ? ',bootindex=1' : ''}`],
    );
  });
  args.push(...['-netdev', 'user,id=n0'], ...['-device', 'e1000e,netdev=n0']);
  if (vm.tpm) {
    if (files.tpmSocket === null) throw new Error('a build VM with a TPM needs the swtpm socket');
    args.push(
      ...['-chardev', `socket,id=tpm0chr,path=${optionValue(files.tpmSocket)}`],
      ...['-tpmdev', 'emulator,id=tpm0,chardev=tpm0chr'],
      ...['-device', 'tpm-crb,tpmdev=tpm0'],
    );
  }
  return args;
}
