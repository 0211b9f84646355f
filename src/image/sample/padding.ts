// The plan of the sample image's bulk (--size): which files go where, how big, with what content.
// Laid out like the component store of a real image (Windows\WinSxS: one folder per component
// version holding its binaries, a manifest per component in WinSxS\Manifests, catalogs in
// System32\CatRoot), with a spread of sizes from a few KiB to tens of MiB, and some components
// present in two versions whose files share most of their content, as servicing leaves them.

import type { ContentMixName, ContentSpec } from './content.ts';
import { createPrng, deriveSeed, type Prng } from './prng.ts';

export interface PaddingFile extends ContentSpec {
  /** Windows-style path under the image root, '\\'-separated. */
  readonly path: string;
}

/** Component name parts, joined like real component names (microsoft-windows-<a>-<b>). */
const AREAS = [
  'tcpip',
  'smbserver',
  'storage-disk',
  'directoryservices-adam',
  'iis-webserver',
  'hyper-v-vmms',
  'powershell-exe',
  'wmi-core',
  'rpc-remote',
  'crypt32-dll',
  'shell32',
  'ntfs',
  'printing-spooler',
  'dns-server',
  'dhcp-client',
  'failover-cluster',
  'windowsupdate-client',
  'defender-engine',
  'networking-mpssvc',
  'servermanager-core',
  'kernel32',
  'user32',
  'ole-automation',
  'com-base',
];

const KIB = 1024;
const MIB = 1024 * KIB;

/** A binary's size: log-uniform over 1 KiB – 2 MiB, and one in 200 a big one (16 – 48 MiB). */
function binarySize(rng: Prng): number {
  if (rng.below(200) === 0) return 16 * MIB + rng.below(32 * MIB);
  const exp = 10 + rng.float() * 11;
  return Math.round(2 ** exp);
}

function hex(rng: Prng, digits: number): string {
  let s = '';
  while (s.length < digits) s += rng.next().toString(16).padStart(8, '0');
  return s.slice(0, digits);
}

/**
 * Files whose sizes add up to exactly `bytes`, all under Windows\WinSxS (and catalogs under
 * System32\CatRoot). Deterministic in `seed`.
 */
export function planPadding(bytes: number, seed: number): PaddingFile[] {
  const rng = createPrng(deriveSeed(seed, 0x9add));
  const files: PaddingFile[] = [];
  let left = bytes;
  let component = 0;
  const binaries: PaddingFile[] = [];
  const add = (path: string, wanted: number, mix: ContentMixName, extra: Partial<ContentSpec> = {}): void => {
    const size = Math.min(wanted, left);
    if (size <= 0) return;
    const file: PaddingFile = {
      path,
      size,
      mix,
      contentSeed: extra.contentSeed ?? deriveSeed(seed, files.length, 2),
      ...(extra.variant === undefined ? {} : { variant: extra.variant }),
    };
    files.push(file);
    left -= size;
    if (mix === 'binary') binaries.push(file);
  };
  while (left > 0) {
    component += 1;
    const area = AREAS[rng.below(AREAS.length)] ?? 'component';
    const revision = 1 + rng.below(2900);
    const name = `amd64_microsoft-windows-${area}_31bf3856ad364e35_10.0.20348.${revision}_none_${hex(rng, 16)}`;
    add(`Windows\\WinSxS\\Manifests\\${name}.manifest`, 1 * KIB + rng.below(12 * KIB), 'manifest');
    const count = 1 + rng.below(4);
    for (let i = 0; i < count && left > 0; i++) {
      const ext = ['dll', 'dll', 'dll', 'exe', 'sys', 'mui'][rng.below(6)] ?? 'dll';
      const path = `Windows\\WinSxS\\${name}\\${area}${i === 0 ? '' : `-${i}`}.${ext}`;
      const earlier =
        binaries.length > 4 && rng.below(5) === 0 ? binaries[rng.below(binaries.length)] : undefined;
      if (earlier !== undefined) {
        add(path, earlier.size, 'binary', {
          contentSeed: earlier.contentSeed,
          variant: { seed: deriveSeed(seed, component, 3 + i), prefix: 16 + rng.below(480), mutateOneIn: 6 },
        });
      } else {
        add(path, binarySize(rng), 'binary');
      }
    }
    if (component % 8 === 0) {
      add(
        `Windows\\System32\\CatRoot\\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\\Package_${component}_for_KB50${hex(rng, 5)}~31bf3856ad364e35~amd64~~20348.${revision}.cat`,
        8 * KIB + rng.below(24 * KIB),
        'catalog',
      );
    }
  }
  return files;
}
