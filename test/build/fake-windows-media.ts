// The fake Windows installation ISO of the build tests (see fake-windows-guest.ts): a UDF bridge
// ISO, as Microsoft's are, that SeaBIOS boots through GRUB's El Torito image into the deploy
// environment's kernel and initramfs — to which a second cpio archive adds the fake guest (in the
// agent's place) and the kernel's iso9660 driver — with the sample image as sources/install.wim.
// The deploy environment is built once into .cache/build-test (minutes) and reused.

import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootEnvFor, seedBootEnvPackages } from '../../src/app/bootenv.ts';
import { bundleModule } from '../../src/engines/esbuild.ts';
import { CPIO_TYPES } from '../../src/formats/cpio.ts';
import { buildSampleImage } from '../../src/image/sample/build-sample.ts';
import { sha256OfFile } from '../../src/io/file-sha256.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { cpioArchive } from '../helpers/cpio.ts';

const GUEST = fileURLToPath(new URL('./fake-windows-guest.ts', import.meta.url));
const ENV_DIR = join(REPO_ROOT, '.cache', 'build-test', 'env');
const PACKAGES = join(REPO_ROOT, '.cache', 'bootenv-debs');

export interface FakeWindowsMedia {
  readonly iso: string;
  readonly sha256: string;
  /** The sample image on it, as sources/install.wim. */
  readonly installWim: string;
  /** The fake guest's kernel and initramfs (on the ISO as /fake/vmlinuz and /fake/initrd.img). */
  readonly fake: string;
}

/** The module isofs.ko of `kernelVersion`, out of the kernel package among the environment's .debs. */
async function isofsModule(kernelVersion: string, scratch: string): Promise<Uint8Array> {
  const debs = join(ENV_DIR, 'bootenv', 'debs');
  const deb = (await readdir(debs)).find((n) => n.startsWith(`linux-image-${kernelVersion}_`));
  if (deb === undefined) throw new Error(`no linux-image-${kernelVersion} package in ${debs}`);
  const out = join(scratch, 'kernel');
  execFileSync('dpkg-deb', ['-x', join(debs, deb), out]);
  return readFile(join(out, 'lib', 'modules', kernelVersion, 'kernel', 'fs', 'isofs', 'isofs.ko'));
}

export async function makeFakeWindowsMedia(dir: string): Promise<FakeWindowsMedia> {
  await mkdir(ENV_DIR, { recursive: true });
  await seedBootEnvPackages(ENV_DIR, PACKAGES);
  const env = await bootEnvFor(ENV_DIR);
  const tree = join(dir, 'media');
  await mkdir(join(tree, 'boot', 'grub'), { recursive: true });
  await mkdir(join(tree, 'fake'), { recursive: true });
  await mkdir(join(tree, 'sources'), { recursive: true });

  const guest = await bundleModule(GUEST, { root: REPO_ROOT, target: 'node24' });
  const overlay = cpioArchive([
    { name: 'winsmith/agent.mjs', mode: CPIO_TYPES.S_IFREG | 0o644, data: guest },
    {
      name: 'isofs.ko',
      mode: CPIO_TYPES.S_IFREG | 0o644,
      data: await isofsModule(env.info.kernel.version, dir),
    },
  ]);
  // The kernel reads a cpio archive after a compressed one only from a 4-byte boundary; zeros between
  // archives are skipped.
  const initramfs = await readFile(env.initramfs);
  const padding = Buffer.alloc((4 - (initramfs.length % 4)) % 4);
  await writeFile(join(tree, 'fake', 'initrd.img'), Buffer.concat([initramfs, padding, overlay]));
  await writeFile(join(tree, 'fake', 'vmlinuz'), await readFile(env.kernel));
  const installWim = join(tree, 'sources', 'install.wim');
  await buildSampleImage(installWim, { seed: 11 });

  await writeFile(
    join(tree, 'boot', 'grub', 'grub.cfg'),
    'set timeout=0\nmenuentry "fake Windows Setup" {\n  linux /fake/vmlinuz console=ttyS0,115200 quiet winsmith.dhcptimeout=30\n  initrd /fake/initrd.img\n}\n',
  );
  execFileSync('grub-mkimage', [
    ...['-O', 'i386-pc-eltorito', '-d', '/usr/lib/grub/i386-pc', '-p', '/boot/grub'],
    ...['-o', join(tree, 'boot', 'grub', 'eltorito.img')],
    ...['biosdisk', 'iso9660', 'normal', 'linux', 'configfile'],
  ]);
  const iso = join(dir, 'fake-windows.iso');
  execFileSync('genisoimage', [
    ...['-quiet', '-udf', '-R', '-J', '-V', 'FAKE_WINDOWS', '-o', iso],
    ...[
      '-b',
      'boot/grub/eltorito.img',
      '-c',
      'boot/boot.cat',
      '-no-emul-boot',
      '-boot-load-size',
      '4',
      '-boot-info-table',
    ],
    tree,
  ]);
  return { iso, sha256: await sha256OfFile(iso), installWim, fake: join(tree, 'fake') };
}

/**
 * An installed Windows as a servicing build finds it, for fake-windows-guest: the sample image with
 * the fake guest's kernel and initramfs in \fake, and as its BIOS boot manager GRUB (g2hdr.img and
 * a core image) booting them from the Windows partition. The disk `winsmith disk` makes of it boots
 * as a Windows disk does: GRUB in the MBR loads \bootmgr from the System Reserved partition, which
 * here starts the fake guest.
 */
export async function makeServicingImage(media: FakeWindowsMedia, dir: string): Promise<string> {
  const config = join(dir, 'servicing-grub.cfg');
  await writeFile(
    config,
    'set root=(hd0,msdos2)\nlinux /fake/vmlinuz console=ttyS0,115200 quiet winsmith.dhcptimeout=30\ninitrd /fake/initrd.img\nboot\n',
  );
  const core = join(dir, 'servicing-core.img');
  execFileSync('grub-mkimage', [
    ...['-O', 'i386-pc', '-d', '/usr/lib/grub/i386-pc', '-o', core, '-c', config],
    ...['-p', '(hd0,msdos2)/boot/grub', 'biosdisk', 'part_msdos', 'ntfs', 'linux'],
  ]);
  const bootmgr = join(dir, 'servicing-bootmgr');
  await writeFile(
    bootmgr,
    Buffer.concat([await readFile('/usr/lib/grub/i386-pc/g2hdr.img'), await readFile(core)]),
  );
  const wim = join(dir, 'servicing.wim');
  await writeFile(wim, await readFile(media.installWim));
  execFileSync('wimupdate', [wim, '1'], {
    input: `add ${media.fake} /fake\nadd ${bootmgr} /Windows/Boot/PCAT/bootmgr\n`,
  });
  return wim;
}
