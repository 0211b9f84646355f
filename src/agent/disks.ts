// The machine's disks as the kernel shows them (Documentation/ABI/stable/sysfs-block): each
// /sys/block/NAME that is hardware (not under /sys/devices/virtual: loop, ram, zram, dm, md, nbd),
// has media, and is writable; with its size, the device's model, vendor, serial and WWN, whether it
// spins, whether it is removable, its transport (from where it hangs in /sys/devices), and its
// /dev/disk/by-path link. Serial and WWN come from sysfs where the driver puts them (NVMe, virtio,
// SCSI's wwid), else from udev's database (/run/udev/data/bMAJ:MIN, ID_SERIAL_SHORT and ID_WWN).
// The roots are parameters so that a test can give a tree of its own.

import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DiskInfo } from '../deploy/agent-protocol.ts';

export interface SystemRoots {
  readonly sys: string;
  readonly dev: string;
  readonly udev: string;
}

export const SYSTEM_ROOTS: SystemRoots = { sys: '/sys', dev: '/dev', udev: '/run/udev' };

const SECTOR = 512;

async function text(path: string): Promise<string | null> {
  try {
    const value = (await readFile(path, 'utf8')).replace(/\0/g, '').trim();
    return value === '' ? null : value;
  } catch {
    return null;
  }
}

/** udev's properties (E:KEY=VALUE lines) of block device MAJ:MIN. */
async function udevProperties(roots: SystemRoots, majMin: string | null): Promise<Map<string, string>> {
  const props = new Map<string, string>();
  if (majMin === null) return props;
  const data = await text(join(roots.udev, 'data', `b${majMin}`));
  for (const line of data?.split('\n') ?? []) {
    const m = /^E:([^=]+)=(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) props.set(m[1], m[2].trim());
  }
  return props;
}

/** The transport of a disk from its name and where its device sits in /sys/devices. */
export function transportOf(name: string, devicePath: string): string | null {
  if (name.startsWith('nvme')) return 'nvme';
  if (name.startsWith('mmcblk')) return 'mmc';
  if (devicePath.includes('/usb')) return 'usb';
  if (/\/end_device-|\/sas_/.test(devicePath)) return 'sas';
  if (/\/ata\d+\//.test(devicePath)) return 'sata';
  if (name.startsWith('vd')) return 'virtio';
  if (name.startsWith('sd')) return 'scsi';
  return null;
}

/** The shortest /dev/disk/by-path link to /dev/NAME, as a full path. */
async function byPathOf(roots: SystemRoots, name: string): Promise<string | null> {
  const dir = join(roots.dev, 'disk', 'by-path');
  let links: string[];
  try {
    links = await readdir(dir);
  } catch {
    return null;
  }
  const target = join(roots.dev, name);
  const found: string[] = [];
  for (const link of links) {
    try {
      if (resolve(dir, await readlink(join(dir, link))) === target) found.push(link);
    } catch {
      // Not a link: udev makes only links here.
    }
  }
  found.sort((a, b) => a.length - b.length || a.localeCompare(b));
  return found[0] === undefined ? null : join(dir, found[0]);
}

/** One disk, or null when /sys/block/NAME is not a disk the agent may write. */
async function readDisk(roots: SystemRoots, name: string): Promise<DiskInfo | null> {
  const block = join(roots.sys, 'block', name);
  const devicePath = await realpath(block).catch(() => block);
  if (devicePath.includes('/devices/virtual/') || name.startsWith('sr')) return null;
  const sectors = Number(await text(join(block, 'size')));
  if (!Number.isSafeInteger(sectors) || sectors <= 0) return null;
  if ((await text(join(block, 'ro'))) === '1') return null;
  const device = join(block, 'device');
  const udev = await udevProperties(roots, await text(join(block, 'dev')));
  const rotational = await text(join(block, 'queue', 'rotational'));
  return {
    path: join(roots.dev, name),
    size: sectors * SECTOR,
    model: await text(join(device, 'model')),
    vendor: await text(join(device, 'vendor')),
    serial:
      (await text(join(device, 'serial'))) ??
      (await text(join(block, 'serial'))) ??
      udev.get('ID_SERIAL_SHORT') ??
      null,
    wwn:
      (await text(join(block, 'wwid'))) ?? (await text(join(device, 'wwid'))) ?? udev.get('ID_WWN') ?? null,
    byPath: await byPathOf(roots, name),
    rotational: rotational === null ? null : rotational === '1',
    removable: (await text(join(block, 'removable'))) === '1',
    transport: transportOf(name, devicePath),
  };
}

/** The disks of the machine, by name. */
export async function readSystemDisks(roots: SystemRoots = SYSTEM_ROOTS): Promise<DiskInfo[]> {
  let names: string[];
  try {
    names = await readdir(join(roots.sys, 'block'));
  } catch {
    return [];
  }
  const disks: DiskInfo[] = [];
  for (const name of names.sort()) {
    const disk = await readDisk(roots, name);
    if (disk !== null) disks.push(disk);
  }
  return disks;
}
