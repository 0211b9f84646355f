// `winsmith sample`: a Windows-like image made from nothing, so every later stage (bootable disks,
// offline customization, driver injection, the repository, network deploy) runs end to end without
// Windows media. The tree (layout.ts, hive-data.ts, padding.ts) is written beside the output and
// captured with wimlib, which fills the WIM's WINDOWS XML from the hives and kernel32.dll itself,
// as for a real image; what it cannot know (name, display name, flags) is set as image properties.

import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProgressListener } from '../../core/progress.ts';
import { wimCapture, type WimCompression } from '../../engines/wimlib.ts';
import { writeOutputFile } from '../../io/output.ts';
import { writeSampleTree } from './write-tree.ts';

export const SAMPLE_DEFAULTS = {
  name: 'Windows Server 2022 SERVERSTANDARD',
  compression: 'LZX',
  seed: 2022,
} as const satisfies { name: string; compression: WimCompression; seed: number };

/** What Windows Server 2022 media show for the Standard edition with the desktop. */
export const SAMPLE_IMAGE_PROPERTIES: Readonly<Record<string, string>> = {
  DISPLAYNAME: 'Windows Server 2022 Standard (Desktop Experience)',
  DISPLAYDESCRIPTION:
    'This option installs the full Windows graphical environment, consuming extra drive space. ' +
    'It can be useful if you want to use the Windows desktop or have an app that requires it.',
  FLAGS: 'ServerStandard',
};

export interface SampleOptions {
  /** Total bytes of file content in the image; without it, only the base tree (about 120 KiB). */
  readonly size?: number;
  readonly name?: string;
  readonly description?: string;
  readonly compression?: WimCompression;
  /** Same seed, same file contents. */
  readonly seed?: number;
  readonly overwrite?: boolean;
  readonly onProgress?: ProgressListener;
}

export interface SampleResult {
  readonly path: string;
  readonly name: string;
  readonly compression: WimCompression;
  readonly seed: number;
  readonly fileCount: number;
  /** Bytes of file content captured. */
  readonly totalBytes: number;
  /** Size of the WIM file. */
  readonly wimBytes: number;
}

/** Makes the sample WIM at `out` (whole or not at all). */
export async function buildSampleImage(out: string, options: SampleOptions = {}): Promise<SampleResult> {
  const name = options.name ?? SAMPLE_DEFAULTS.name;
  const compression = options.compression ?? SAMPLE_DEFAULTS.compression;
  const seed = options.seed ?? SAMPLE_DEFAULTS.seed;
  const tree = await writeOutputFile(
    out,
    async (tmpWim) => {
      // The tree goes in the output's scratch folder: beside the output, on its file system, removed after.
      const root = join(dirname(tmpWim), 'tree');
      await mkdir(root);
      const written = await writeSampleTree(root, {
        seed,
        ...(options.size === undefined ? {} : { size: options.size }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
      await wimCapture(root, tmpWim, {
        name,
        description: options.description ?? name,
        compression,
        imageProperties: SAMPLE_IMAGE_PROPERTIES,
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
      return written;
    },
    { overwrite: options.overwrite === true },
  );
  return {
    path: out,
    name,
    compression,
    seed,
    fileCount: tree.fileCount,
    totalBytes: tree.totalBytes,
    wimBytes: (await stat(out)).size,
  };
}
