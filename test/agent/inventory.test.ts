// The machine's inventory read from a sysfs, /dev and udev tree made here the way the kernel and
// udev lay them out (SATA, NVMe, virtio, USB, SAS, a loop device, a CD drive, an empty card
// reader, a read-only disk), from the machine this test runs on, and from an inventory file.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { readSystemDisks, transportOf } from '../../src/agent/disks.ts';
import { readInventoryFile, readSystemInventory } from '../../src/agent/inventory.ts';
import { AppError } from '../../src/core/errors.ts';
import { withTempDir } from '../../src/io/output.ts';

interface FakeDisk {
  readonly name: string;
  /** Under /sys/devices. */
  readonly device: string;
  readonly files: Readonly<Record<string, string>>;
  readonly majMin: string;
}

async function put(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

async function link(path: string, target: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await symlink(relative(dirname(path), target), path);
}

/** A sysfs/dev/udev tree holding `disks`; returns its roots. */
async function fakeSystem(root: string, disks: readonly FakeDisk[]) {
  const sys = join(root, 'sys');
  const dev = join(root, 'dev');
  const udev = join(root, 'udev');
  for (const d of disks) {
    const node = join(sys, 'devices', d.device, 'block', d.name);
    await put(join(node, 'dev'), `${d.majMin}\n`);
    for (const [file, content] of Object.entries(d.files)) await put(join(node, file), `${content}\n`);
    await link(join(sys, 'block', d.name), node);
    await put(join(dev, d.name), '');
  }
  return { sys, dev, udev };
}

const SATA = 'pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0';
const NVME_CTRL = 'pci0000:00/0000:00:02.0/nvme/nvme0';

test('disks from sysfs: hardware disks with their attributes; loop, CD, empty and read-only devices left out', async () => {
  await withTempDir(async (root) => {
    const roots = await fakeSystem(root, [
      {
        name: 'sda',
        device: SATA,
        majMin: '8:0',
        files: {
          size: '1953525168',
          removable: '0',
          ro: '0',
          'queue/rotational': '1',
          'device/model': 'WDC WD10EZEX-08W',
          'device/vendor': 'ATA     ',
          'device/wwid': 'naa.50014ee2b5c3d4e5',
        },
      },
      {
        name: 'nvme0n1',
        device: NVME_CTRL,
        majMin: '259:0',
        files: {
          size: '976773168',
          removable: '0',
          'queue/rotational': '0',
          wwid: 'eui.0025388b71b2c3d4',
          'device/model': 'Samsung SSD 980 PRO 1TB',
          'device/serial': 'S5GXNX0R123456  ',
        },
      },
      {
        name: 'vda',
        device: 'pci0000:00/0000:00:04.0/virtio1',
        majMin: '254:0',
        files: { size: '83886080', removable: '0', 'queue/rotational': '1', serial: 'VIRTIO-SN-1' },
      },
      {
        name: 'sdb',
        device: 'pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0',
        majMin: '8:16',
        files: { size: '60437492', removable: '1', 'queue/rotational': '0', 'device/model': 'Ultra Fit' },
      },
      {
        name: 'sdc',
        device: 'pci0000:00/0000:00:03.0/0000:03:00.0/host1/port-1:0/end_device-1:0/target1:0:0/1:0:0:0',
        majMin: '8:32',
        files: { size: '3907029168', removable: '0', 'queue/rotational': '1' },
      },
      { name: 'loop0', device: 'virtual', majMin: '7:0', files: { size: '1024', removable: '0' } },
      {
        name: 'sr0',
        device: SATA.replace('ata1', 'ata2'),
        majMin: '11:0',
        files: { size: '2097152', removable: '1' },
      },
      {
        name: 'sdd',
        device: SATA.replace('ata1', 'ata3'),
        majMin: '8:48',
        files: { size: '0', removable: '1' },
      },
      { name: 'sde', device: SATA.replace('ata1', 'ata4'), majMin: '8:64', files: { size: '1000', ro: '1' } },
    ]);
    await put(
      join(roots.udev, 'data', 'b8:0'),
      'S:disk/by-id/ata-WDC\nE:ID_SERIAL_SHORT=WD-WCC6Y0ABCDEF\nE:ID_WWN=0x50014ee2b5c3d4e5\n',
    );
    await link(join(roots.dev, 'disk', 'by-path', 'pci-0000:00:1f.2-ata-1.0'), join(roots.dev, 'sda'));
    await link(join(roots.dev, 'disk', 'by-path', 'pci-0000:00:1f.2-ata-1'), join(roots.dev, 'sda'));
    await link(join(roots.dev, 'disk', 'by-path', 'pci-0000:00:1f.2-ata-1-part1'), join(roots.dev, 'sda1'));

    const disks = await readSystemDisks(roots);
    assert.deepEqual(
      disks.map((d) => d.path.slice(roots.dev.length)),
      ['/nvme0n1', '/sda', '/sdb', '/sdc', '/vda'],
    );
    const [nvme, sda, sdb, sdc, vda] = disks;
    assert.deepEqual(sda, {
      path: join(roots.dev, 'sda'),
      size: 1953525168 * 512,
      model: 'WDC WD10EZEX-08W',
      vendor: 'ATA',
      serial: 'WD-WCC6Y0ABCDEF',
      wwn: 'naa.50014ee2b5c3d4e5',
      byPath: join(roots.dev, 'disk', 'by-path', 'pci-0000:00:1f.2-ata-1'),
      rotational: true,
      removable: false,
      transport: 'sata',
    });
    assert.deepEqual(
      [nvme?.model, nvme?.serial, nvme?.wwn, nvme?.transport, nvme?.rotational, nvme?.byPath],
      ['Samsung SSD 980 PRO 1TB', 'S5GXNX0R123456', 'eui.0025388b71b2c3d4', 'nvme', false, null],
    );
    assert.deepEqual([vda?.serial, vda?.transport, vda?.model], ['VIRTIO-SN-1', 'virtio', null]);
    assert.deepEqual([sdb?.transport, sdb?.removable, sdb?.model], ['usb', true, 'Ultra Fit']);
    assert.deepEqual([sdc?.transport, sdc?.serial], ['sas', null]);
  });
});

test('transports from the device path, the USB bridge before the SATA behind it', () => {
  assert.equal(
    transportOf('sda', '/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0'),
    'usb',
  );
  assert.equal(transportOf('sda', '/sys/devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0'), 'sata');
  assert.equal(transportOf('sda', '/sys/devices/pci0000:00/0000:00:05.0/virtio2/host0/target0:0:0'), 'scsi');
  assert.equal(transportOf('mmcblk0', '/sys/devices/platform/mmc0'), 'mmc');
  assert.equal(transportOf('xvda', '/sys/devices/vbd-51712'), null);
});

test('the inventory of the machine this test runs on: every disk listed is a block device of its size', async () => {
  const inventory = await readSystemInventory();
  const efi = await stat('/sys/firmware/efi').then(
    () => true,
    () => false,
  );
  assert.equal(inventory.firmware, efi ? 'uefi' : 'bios');
  for (const disk of inventory.disks) {
    assert.ok((await stat(disk.path)).isBlockDevice(), disk.path);
    assert.ok(disk.size > 0);
  }
});

test('an inventory file: sizes from the files; a disk that is not a regular file is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-inventory-'));
  try {
    const disk = join(dir, 'a.raw');
    await writeFile(disk, new Uint8Array(4096));
    const entry = {
      path: disk,
      model: 'M',
      vendor: null,
      serial: 'S',
      wwn: null,
      byPath: null,
      rotational: false,
      removable: false,
      transport: 'nvme',
    };
    const file = join(dir, 'inventory.json');
    await writeFile(file, JSON.stringify({ firmware: 'bios', secureBoot: null, nics: [], disks: [entry] }));
    const inventory = await readInventoryFile(file);
    assert.equal(inventory.disks[0]?.size, 4096);
    assert.equal(inventory.firmware, 'bios');

    await writeFile(
      file,
      JSON.stringify({ firmware: 'bios', secureBoot: null, nics: [], disks: [{ ...entry, path: dir }] }),
    );
    await assert.rejects(
      readInventoryFile(file),
      (e: unknown) =>
        e instanceof AppError && e.message === `${dir} of the inventory file is not a regular file`,
    );
    await writeFile(file, JSON.stringify({ firmware: 'arm', secureBoot: null, nics: [], disks: [] }));
    await assert.rejects(
      readInventoryFile(file),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'FORMAT_INVALID' &&
        e.message.startsWith(`the inventory file ${file} is not valid at firmware: `),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
