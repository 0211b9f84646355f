// The files of one image of a WIM: list them, and extract some to a new directory.

import type { ProgressListener } from '../core/progress.ts';
import { wimExtract, wimListFiles, type WimFileEntry } from '../engines/wimlib.ts';
import { writeOutputDirectory } from '../io/output.ts';
import { openWimImage } from './wim-ref.ts';

function wimPath(path: string): string {
  const slashed = path.replaceAll('\\', '/');
  return slashed.startsWith('/') ? slashed : `/${slashed}`;
}

/** Every file and directory of the image `ref` names, or of the subtree at `under`. */
export async function listImageFiles(ref: string, under?: string): Promise<WimFileEntry[]> {
  const image = await openWimImage(ref);
  return wimListFiles(image.path, image.index, under === undefined ? {} : { path: wimPath(under) });
}

/**
 * Extracts `paths` of the image `ref` names into `outDir`, which must not exist yet unless
 * `overwrite`: it appears with everything in it, or not at all.
 */
export async function extractImageFiles(
  ref: string,
  paths: readonly string[],
  outDir: string,
  onProgress?: ProgressListener,
  overwrite = false,
): Promise<void> {
  const image = await openWimImage(ref);
  await writeOutputDirectory(
    outDir,
    (tmpDir) =>
      wimExtract(
        image.path,
        image.index,
        paths.map(wimPath),
        tmpDir,
        onProgress === undefined ? {} : { onProgress },
      ),
    { overwrite },
  );
}
