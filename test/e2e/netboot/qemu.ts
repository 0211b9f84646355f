// Diskless QEMU (TCG) VMs that boot from the network inside a test namespace, the wimboot way:
// typed cases, a hard timeout, the serial console kept in a log file per run.

import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Netns, Spawned } from './netns.ts';

export type Firmware = 'bios' | 'uefi';

export interface VmCase {
  readonly name: string;
  readonly firmware: Firmware;
}

export interface Vm {
  readonly name: string;
  readonly firmware: Firmware;
  /** 52:54:00:xx:xx:xx, random per run. */
  readonly mac: string;
  /** SMBIOS system UUID given to the VM, random per run. */
  readonly uuid: string;
  readonly process: Spawned;
}

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const BIOS_NIC_ROM = '/usr/lib/ipxe/qemu/pxe-e1000.rom';

/** Why a case cannot run on this machine, or null. */
export async function firmwareUnavailable(firmware: Firmware): Promise<string | null> {
  const needed = firmware === 'uefi' ? [OVMF_CODE, OVMF_VARS] : [BIOS_NIC_ROM];
  for (const path of ['/usr/bin/qemu-system-x86_64', ...needed]) {
    try {
      await access(path);
    } catch {
      return `${path} is missing (Debian packages qemu-system-x86, ipxe-qemu, ovmf)`;
    }
  }
  return null;
}

function randomMac(): string {
  const b = randomBytes(3);
  return ['52', '54', '00', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/**
 * Starts a VM with no disk on a new tap of the namespace's bridge. BIOS: SeaBIOS with the e1000's
 * iPXE option ROM (Debian ipxe-qemu). UEFI: OVMF (no Secure Boot) with its own virtio-net driver.
 * The VM is killed by the namespace's clean-up or by `process.stop()`.
 */
export async function startVm(ns: Netns, vm: VmCase): Promise<Vm> {
  const tap = await ns.addTap();
  const mac = randomMac();
  const uuid = randomUUID();
  const common = ['-accel', 'tcg', '-nographic', '-no-reboot'];
  const net = ['-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`];
  let args: string[];
  if (vm.firmware === 'bios') {
    args = [
      ...common,
      '-m',
      '256',
      '-uuid',
      uuid,
      ...net,
      '-device',
      `e1000,netdev=n0,mac=${mac},romfile=${BIOS_NIC_ROM}`,
    ];
  } else {
    const vars = join(ns.dir, `${vm.name}-vars.fd`);
    await copyFile(OVMF_VARS, vars);
    args = [
      ...common,
      '-machine',
      'q35',
      '-m',
      '512',
      '-uuid',
      uuid,
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${vars}`,
      ...net,
      '-device',
      `virtio-net-pci,netdev=n0,romfile=,mac=${mac}`,
    ];
  }
  args.push('-boot', 'n');
  const process = ns.spawn('qemu-system-x86_64', args, `qemu-${vm.name}`);
  return { name: vm.name, firmware: vm.firmware, mac, uuid, process };
}
