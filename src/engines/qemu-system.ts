// Virtual machines through qemu-system-x86_64 (Debian qemu-system-x86) that boot from the network
// on a tap device, under TCG (no KVM needed): BIOS is SeaBIOS with the e1000's iPXE option ROM
// (Debian ipxe-qemu), which goes straight to iPXE; UEFI is OVMF (Debian ovmf) with its own
// virtio-net driver, without Secure Boot, or with it enforced: OVMF's Secure Boot build (SMM, on a
// q35 machine with SMM on and its flash secured) and the variables holding Microsoft's keys, as a
// machine sold with Windows has them. The serial console is on stdout;
// -no-reboot makes a reboot end QEMU as a power-off does.

import { randomBytes } from 'node:crypto';
import { access, copyFile } from 'node:fs/promises';
import { AppError } from '../core/errors.ts';
import type { DiskFormat } from './qemu-img.ts';
import { runProgram } from './run.ts';

export type VmFirmware = 'bios' | 'uefi';

export const VM_FIRMWARES: readonly VmFirmware[] = ['uefi', 'bios'];

/** The firmware files a VM of each kind needs, and the Debian package of each. */
export const VM_FIRMWARE_FILES = {
  ovmfCode: { path: '/usr/share/OVMF/OVMF_CODE_4M.fd', package: 'ovmf' },
  ovmfVars: { path: '/usr/share/OVMF/OVMF_VARS_4M.fd', package: 'ovmf' },
  ovmfSecureCode: { path: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', package: 'ovmf' },
  ovmfMicrosoftVars: { path: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd', package: 'ovmf' },
  biosNicRom: { path: '/usr/lib/ipxe/qemu/pxe-e1000.rom', package: 'ipxe-qemu' },
} as const;

function firmwareFiles(firmware: VmFirmware, secureBoot: boolean): { path: string; package: string }[] {
  const f = VM_FIRMWARE_FILES;
  if (firmware === 'bios') return [f.biosNicRom];
  return secureBoot ? [f.ovmfSecureCode, f.ovmfMicrosoftVars] : [f.ovmfCode, f.ovmfVars];
}

/** Throws MISSING_PROGRAM when QEMU or the firmware files of `firmware` are not installed. */
export async function requireVmFirmware(firmware: VmFirmware, secureBoot = false): Promise<void> {
  await runProgram('qemu-system-x86_64', ['--version']);
  for (const file of firmwareFiles(firmware, secureBoot)) {
    try {
      await access(file.path);
    } catch (cause) {
      throw new AppError('MISSING_PROGRAM', `${file.path} is missing (${firmware} VMs need it)`, {
        hint: `install the Debian package ${file.package}: apt-get install -y ${file.package}`,
        cause,
      });
    }
  }
}

/** Why a VM of `firmware` cannot run here, or null. */
export async function vmUnavailable(firmware: VmFirmware, secureBoot = false): Promise<string | null> {
  try {
    await requireVmFirmware(firmware, secureBoot);
    return null;
  } catch (e) {
    return e instanceof AppError ? `${e.message} — ${e.hint ?? ''}` : String(e);
  }
}

/** A locally administered unicast MAC in QEMU's range, 52:54:00:xx:xx:xx, random. */
export function randomMac(): string {
  return ['52', '54', '00', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * A UEFI machine's own variable store: a copy of OVMF's empty one (the VM writes its boot
 * entries), or for Secure Boot of the one enrolled with Microsoft's keys.
 */
export async function makeUefiVars(path: string, secureBoot = false): Promise<void> {
  const f = VM_FIRMWARE_FILES;
  await copyFile(secureBoot ? f.ovmfMicrosoftVars.path : f.ovmfVars.path, path);
}

export interface VmSpec {
  readonly firmware: VmFirmware;
  /** The tap device (in the network namespace QEMU runs in). */
  readonly tap: string;
  readonly mac: string;
  /** The SMBIOS system UUID. */
  readonly uuid: string;
  readonly memoryMiB: number;
  /** UEFI only: the machine's variable store (makeUefiVars). */
  readonly uefiVars: string | null;
  /** UEFI only: Secure Boot enforced (its variable store made for it). */
  readonly secureBoot?: boolean;
  /** A virtio disk, or none. */
  readonly disk: { readonly path: string; readonly format: DiskFormat } | null;
}

/** A value inside a QEMU option list: a comma is written twice. */
function optionValue(text: string): string {
  return text.replaceAll(',', ',,');
}

/** The command line of a VM that boots from the network first, one CPU under TCG. */
export function qemuVmArgs(spec: VmSpec): string[] {
  const args = ['-accel', 'tcg', '-smp', '1', '-m', String(spec.memoryMiB), '-nographic', '-no-reboot'];
  args.push('-uuid', spec.uuid);
  args.push('-netdev', `tap,id=n0,ifname=${spec.tap},script=no,downscript=no`);
  if (spec.firmware === 'bios') {
    args.push('-device', `e1000,netdev=n0,mac=${spec.mac},romfile=${VM_FIRMWARE_FILES.biosNicRom.path}`);
  } else {
    if (spec.uefiVars === null) {
      throw new AppError('INVALID_ARGUMENT', 'a UEFI VM needs its variable store', {
        hint: 'make one with makeUefiVars',
      });
    }
    const secure = spec.secureBoot === true;
    const code = secure ? VM_FIRMWARE_FILES.ovmfSecureCode : VM_FIRMWARE_FILES.ovmfCode;
    // The Secure Boot build keeps its variables behind SMM: the machine has it, the flash is secured.
    if (secure) args.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
    args.push(
      '-machine',
      secure ? 'q35,smm=on' : 'q35',
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${code.path}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${optionValue(spec.uefiVars)}`,
      '-device',
      `virtio-net-pci,netdev=n0,romfile=,mac=${spec.mac}`,
    );
  }
  if (spec.disk !== null) {
    args.push('-drive', `file=${optionValue(spec.disk.path)},format=${spec.disk.format},if=virtio`);
  }
  args.push('-boot', 'n');
  return args;
}
