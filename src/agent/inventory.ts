// What the agent tells the server about the machine once it is up: its disks (disks.ts), its
// network cards (/sys/class/net, hardware only), how it booted (UEFI when the kernel shows
// /sys/firmware/efi) and whether Secure Boot is on (the SecureBoot EFI variable of the global
// variable GUID, UEFI 2.10 §3.3: four bytes of attributes, then the value).
// An inventory file stands in for the machine where no machine may be written: it lists disk
// image files with the attributes a rule can match, and their sizes are the files' own.

import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError, errorText } from '../core/errors.ts';
import { AgentInventory, DiskInfo } from '../deploy/agent-protocol.ts';
import { readSystemDisks, SYSTEM_ROOTS, type SystemRoots } from './disks.ts';
import { validated } from './validated.ts';

const SECURE_BOOT_VARIABLE = 'SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

async function readNics(roots: SystemRoots): Promise<AgentInventory['nics']> {
  const dir = join(roots.sys, 'class', 'net');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const nics: { name: string; mac: string }[] = [];
  for (const name of names.sort()) {
    const where = await realpath(join(dir, name)).catch(() => '/devices/virtual/');
    if (where.includes('/devices/virtual/')) continue;
    const mac = (await readFile(join(dir, name, 'address'), 'utf8').catch(() => '')).trim();
    if (mac !== '') nics.push({ name, mac });
  }
  return nics.slice(0, 64);
}

async function readSecureBoot(roots: SystemRoots): Promise<boolean | null> {
  try {
    const bytes = await readFile(join(roots.sys, 'firmware', 'efi', 'efivars', SECURE_BOOT_VARIABLE));
    return bytes.byteLength >= 5 ? bytes[4] === 1 : null;
  } catch {
    return null;
  }
}

/** The inventory of the machine the agent runs on. */
export async function readSystemInventory(roots: SystemRoots = SYSTEM_ROOTS): Promise<AgentInventory> {
  const uefi = await stat(join(roots.sys, 'firmware', 'efi')).then(
    (s) => s.isDirectory(),
    () => false,
  );
  return {
    disks: (await readSystemDisks(roots)).slice(0, 256),
    nics: await readNics(roots),
    firmware: uefi ? 'uefi' : 'bios',
    secureBoot: uefi ? await readSecureBoot(roots) : null,
  };
}

/** An inventory file: the inventory, with disks that are image files and no sizes (read from the files). */
export const InventoryFile = AgentInventory.extend({
  disks: z.array(DiskInfo.omit({ size: true })).max(256),
});
export type InventoryFile = z.infer<typeof InventoryFile>;

/** Reads an inventory file; each disk must be an existing regular file. */
export async function readInventoryFile(path: string): Promise<AgentInventory> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new AppError(
      'FORMAT_INVALID',
      `the inventory file ${path} cannot be read as JSON: ${errorText(cause)}`,
      {
        cause,
      },
    );
  }
  const listed = validated(InventoryFile, value, `the inventory file ${path}`);
  const disks: DiskInfo[] = [];
  for (const disk of listed.disks) {
    const info = await stat(disk.path).catch(() => null);
    if (info?.isFile() !== true) {
      throw new AppError('INVALID_ARGUMENT', `${disk.path} of the inventory file is not a regular file`, {
        hint: 'an inventory file lists disk image files; the disks of the machine are read from /sys',
      });
    }
    disks.push({ ...disk, size: info.size });
  }
  return { ...listed, disks };
}
