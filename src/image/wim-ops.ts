// Whole-WIM operations an administrator runs (the DISM /Capture-Image, /Apply-Image,
// /Export-Image, /Split-Image family), each checking its inputs first and writing outputs whole.

import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { ProgressListener } from '../core/progress.ts';
import {
  findSplitParts,
  wimApply,
  wimCapture,
  wimExport,
  wimJoin,
  wimOptimize,
  wimSplit,
  wimVerify,
  type CaptureOptions,
  type WimCompression,
} from '../engines/wimlib.ts';
import { writeOutputDirectory, writeOutputFile, type OutputOptions } from '../io/output.ts';
import { exists } from '../io/paths.ts';
import { loadWimInfo, openWimImage } from './wim-ref.ts';

export const WIM_COMPRESSIONS: Readonly<Record<string, WimCompression>> = {
  none: 'none',
  xpress: 'XPRESS',
  lzx: 'LZX',
  lzms: 'LZMS',
};

/** `none|xpress|lzx|lzms` in any case, as a WimCompression. */
export function parseCompression(value: string): WimCompression {
  const compression = WIM_COMPRESSIONS[value.toLowerCase()];
  if (compression === undefined) {
    throw new AppError('INVALID_ARGUMENT', `compression "${value}" is not one of none, xpress, lzx, lzms`, {
      hint: 'use lzx for install images, lzms with --solid for the smallest files',
    });
  }
  return compression;
}

function withProgress(onProgress: ProgressListener | undefined): { onProgress?: ProgressListener } {
  return onProgress === undefined ? {} : { onProgress };
}

/** Captures a directory or an NTFS volume (file or block device) into a new WIM `out`. */
export async function captureImage(
  source: string,
  out: string,
  options: CaptureOptions,
  output: OutputOptions = {},
): Promise<void> {
  if (!(await exists(source))) {
    throw new AppError('FILE_NOT_FOUND', `${source} does not exist`, {
      hint: 'name a directory, or an NTFS volume in a file or a block device',
    });
  }
  await writeOutputFile(out, (tmp) => wimCapture(source, tmp, options), output);
}

/**
 * Applies image `ref` to `target`: a new directory (made whole or not at all; an existing one is
 * replaced when `output.overwrite`), or an existing empty NTFS volume in a regular file or a block
 * device.
 */
export async function applyImage(
  ref: string,
  target: string,
  onProgress?: ProgressListener,
  output: OutputOptions = {},
): Promise<void> {
  const image = await openWimImage(ref);
  const targetStat = await stat(target).catch(() => null);
  if (targetStat === null || (targetStat.isDirectory() && output.overwrite === true)) {
    await writeOutputDirectory(
      target,
      (tmp) => wimApply(image.path, image.index, tmp, withProgress(onProgress)),
      output,
    );
    return;
  }
  if (targetStat.isDirectory()) {
    throw new AppError('ALREADY_EXISTS', `${target} already exists`, {
      hint: 'pass --force to replace the directory, or apply to a new one or to an NTFS volume',
    });
  }
  await wimApply(image.path, image.index, target, withProgress(onProgress));
}

export interface ExportImageOptions {
  compression?: WimCompression;
  solid?: boolean;
  /** The exported image's name (default: the source image's). */
  name?: string;
  /** The exported image's description (default: the source image's). */
  description?: string;
  /** Replace an existing `out` with a new WIM instead of appending to it. */
  overwrite?: boolean;
  onProgress?: ProgressListener;
}

/** Copies image `ref` into `out`: a new WIM, or an existing one it is appended to. */
export async function exportImage(ref: string, out: string, options: ExportImageOptions = {}): Promise<void> {
  const image = await openWimImage(ref);
  const source = image.info.images.find((i) => i.index === image.index);
  // wimlib takes the description only after a name: the source's name stands when none is given.
  const name = options.name ?? (options.description === undefined ? undefined : (source?.name ?? undefined));
  const engineOptions = {
    ...(options.compression === undefined ? {} : { compression: options.compression }),
    ...(options.solid === undefined ? {} : { solid: options.solid }),
    ...(name === undefined ? {} : { name }),
    ...(options.description === undefined ? {} : { description: options.description }),
    ...withProgress(options.onProgress),
  };
  if (options.overwrite !== true && (await exists(out))) {
    await loadWimInfo(out);
    await wimExport(image.path, image.index, out, engineOptions);
    return;
  }
  await writeOutputFile(out, (tmp) => wimExport(image.path, image.index, tmp, engineOptions), {
    overwrite: options.overwrite === true,
  });
}

/** Rewrites the WIM in place without unused space; `recompress` compresses all data again. */
export async function optimizeImage(
  path: string,
  options: { recompress?: boolean; compression?: WimCompression; onProgress?: ProgressListener } = {},
): Promise<{ before: number; after: number }> {
  await loadWimInfo(path);
  const before = (await stat(path)).size;
  await wimOptimize(path, options);
  return { before, after: (await stat(path)).size };
}

/** Of `names`, the further parts of the split WIM `firstPart` starts (X2.swm, X3.swm, …), no other file. */
function numberedParts(firstPart: string, names: readonly string[]): string[] {
  const stem = basename(firstPart).slice(0, -'.swm'.length).toLowerCase();
  return names.filter((p) => {
    const name = basename(p).toLowerCase();
    return name.startsWith(stem) && name.endsWith('.swm') && /^[0-9]+$/.test(name.slice(stem.length, -4));
  });
}

/**
 * Splits `path` into `firstPart` (X.swm), X2.swm, …, each at most `partSizeMiB` where files allow.
 * The parts of another split WIM already there are replaced when `output.overwrite`, once the new
 * parts are made.
 */
export async function splitImage(
  path: string,
  firstPart: string,
  partSizeMiB: number,
  onProgress?: ProgressListener,
  output: OutputOptions = {},
): Promise<string[]> {
  if (!(partSizeMiB > 0)) {
    throw new AppError('INVALID_ARGUMENT', `part size ${partSizeMiB} MiB is not a positive number`);
  }
  if (!firstPart.toLowerCase().endsWith('.swm')) {
    throw new AppError('INVALID_ARGUMENT', `${firstPart} does not end in .swm`, {
      hint: 'name the first part X.swm; the others become X2.swm, X3.swm, …',
    });
  }
  await loadWimInfo(path);
  const taken = await findSplitParts(firstPart);
  if (taken.length > 0 && output.overwrite !== true) {
    throw new AppError(
      'ALREADY_EXISTS',
      `parts of another split WIM are already there: ${taken.join(', ')}`,
      {
        hint: 'pass --force to replace them, or choose another name',
      },
    );
  }
  return writeOutputFile(
    firstPart,
    async (tmp) => {
      const parts = await wimSplit(path, tmp, partSizeMiB, withProgress(onProgress));
      await Promise.all(numberedParts(firstPart, taken).map((p) => rm(p, { force: true })));
      const placed: string[] = [];
      try {
        for (const part of parts.slice(1)) {
          const dest = join(dirname(firstPart), basename(part));
          await rename(part, dest);
          placed.push(dest);
        }
      } catch (cause) {
        await Promise.all(placed.map((p) => rm(p, { force: true })));
        throw new AppError('IO_ERROR', `could not move the parts into place: ${(cause as Error).message}`, {
          cause,
        });
      }
      return [firstPart, ...placed];
    },
    output,
  );
}

/** Joins the parts of a split WIM (any order) into a new WIM `out`. */
export async function joinImage(
  out: string,
  parts: readonly string[],
  onProgress?: ProgressListener,
  output: OutputOptions = {},
): Promise<void> {
  const infos = await Promise.all(parts.map(loadWimInfo));
  const first = infos[0];
  if (first === undefined) throw new AppError('USAGE', 'no parts given', { hint: 'name every .swm part' });
  if (infos.some((i) => i.guid !== first.guid) || infos.length !== first.parts) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `the parts given are not one whole split WIM (${infos.length} files given, ${first.parts} parts expected, all with the same GUID)`,
      { hint: 'name every part of the same split WIM' },
    );
  }
  await writeOutputFile(out, (tmp) => wimJoin(tmp, parts, withProgress(onProgress)), output);
}

/** Verifies every image's metadata and every file's SHA-1 (and the integrity table, if any). */
export async function verifyImage(path: string, onProgress?: ProgressListener): Promise<void> {
  await loadWimInfo(path);
  await wimVerify(path, withProgress(onProgress));
}
