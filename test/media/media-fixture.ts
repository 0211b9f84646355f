// Builds a small Windows-installation-media-like ISO at test time: a UDF image (genisoimage -udf,
// as Microsoft's CDIMAGE makes UDF media) holding sources/install.wim with two editions,
// sources/boot.wim with two images (boot index 2), and the usual boot/, efi/ and setup.exe.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgram } from '../../src/engines/run.ts';

export const MEDIA_LABEL = 'SSS_X64FRE_EN-US_DV9';

export interface Edition {
  readonly name: string;
  readonly description: string;
  readonly editionId: string;
  readonly installationType: string;
}

export const INSTALL_EDITIONS: readonly Edition[] = [
  {
    name: 'Windows Server 2025 Standard',
    description: 'Windows Server 2025 Standard (Server Core)',
    editionId: 'ServerStandard',
    installationType: 'Server Core',
  },
  {
    name: 'Windows Server 2025 Datacenter (Desktop Experience)',
    description: 'Windows Server 2025 Datacenter (Desktop Experience)',
    editionId: 'ServerDatacenter',
    installationType: 'Server',
  },
];

export const BOOT_IMAGES: readonly Edition[] = [
  {
    name: 'Microsoft Windows PE (amd64)',
    description: 'Microsoft Windows PE (amd64)',
    editionId: 'WindowsPE',
    installationType: 'WindowsPE',
  },
  {
    name: 'Microsoft Windows Setup (amd64)',
    description: 'Microsoft Windows Setup (amd64)',
    editionId: 'WindowsPE',
    installationType: 'WindowsPE',
  },
];

function properties(edition: Edition): string[] {
  const props: Record<string, string> = {
    DESCRIPTION: edition.description,
    'WINDOWS/EDITIONID': edition.editionId,
    'WINDOWS/INSTALLATIONTYPE': edition.installationType,
    'WINDOWS/ARCH': '9',
    'WINDOWS/VERSION/MAJOR': '10',
    'WINDOWS/VERSION/MINOR': '0',
    'WINDOWS/VERSION/BUILD': '26100',
    'WINDOWS/VERSION/SPBUILD': '1742',
    'WINDOWS/LANGUAGES/LANGUAGE': 'en-US',
  };
  return Object.entries(props).flatMap(([k, v]) => ['--image-property', `${k}=${v}`]);
}

/** A WIM with one image per edition, each captured from its own small tree. */
export async function buildWim(dir: string, wimPath: string, editions: readonly Edition[]): Promise<void> {
  for (const [i, edition] of editions.entries()) {
    const tree = join(dir, `tree-${i}`);
    await mkdir(join(tree, 'Windows', 'System32'), { recursive: true });
    await writeFile(
      join(tree, 'Windows', 'System32', 'kernel.txt'),
      `edition ${edition.editionId}\n`.repeat(100),
    );
    await writeFile(join(tree, 'Windows', `only-${i}.txt`), `image ${i + 1}\n`);
    await runProgram('wimlib-imagex', [
      i === 0 ? 'capture' : 'append',
      tree,
      wimPath,
      edition.name,
      '--compress=LZX',
      ...properties(edition),
    ]);
  }
}

export interface BuiltMedia {
  readonly iso: string;
  /** The directory the ISO was made from (its files are the originals). */
  readonly tree: string;
}

/** The media tree and its ISO under `dir`. */
export async function buildMediaIso(dir: string, label = MEDIA_LABEL): Promise<BuiltMedia> {
  const tree = join(dir, 'media');
  await mkdir(join(tree, 'sources'), { recursive: true });
  await mkdir(join(tree, 'boot'), { recursive: true });
  await mkdir(join(tree, 'efi', 'microsoft', 'boot'), { recursive: true });
  await writeFile(join(tree, 'setup.exe'), 'MZ stand-in for setup.exe\n');
  await writeFile(join(tree, 'bootmgr'), 'stand-in for bootmgr\n');
  await writeFile(join(tree, 'boot', 'bcd'), 'stand-in for the BIOS BCD\n');
  await writeFile(join(tree, 'efi', 'microsoft', 'boot', 'bcd'), 'stand-in for the UEFI BCD\n');
  await buildWim(join(dir, 'install'), join(tree, 'sources', 'install.wim'), INSTALL_EDITIONS);
  await buildWim(join(dir, 'boot'), join(tree, 'sources', 'boot.wim'), BOOT_IMAGES);
  await runProgram('wimlib-imagex', ['info', join(tree, 'sources', 'boot.wim'), '2', '--boot']);
  const iso = join(dir, 'media.iso');
  await makeUdfIso(tree, iso, label);
  return { iso, tree };
}

/** A UDF (+ ISO 9660 bridge) image of `tree`, as genisoimage -udf makes it. */
export async function makeUdfIso(tree: string, iso: string, label = MEDIA_LABEL): Promise<void> {
  await runProgram('genisoimage', [
    '-quiet',
    '-udf',
    '-iso-level',
    '3',
    '-allow-limited-size',
    '-V',
    label,
    '-o',
    iso,
    tree,
  ]);
}
