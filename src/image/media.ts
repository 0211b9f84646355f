// Windows installation media (the ISO Microsoft ships): a UDF volume with the install image at
// sources/install.wim (or install.esd) and Windows PE at sources/boot.wim. Their editions are read
// in place through the UDF reader and readWimInfo — a multi-GiB install.wim is never copied for
// that; extraction runs 7-Zip (7zz), which reads UDF too.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteSource } from '../core/byte-source.ts';
import { AppError, FormatError } from '../core/errors.ts';
import type { ProgressListener } from '../core/progress.ts';
import { sevenZipExtract } from '../engines/sevenzip.ts';
import {
  findEntry,
  listDirectory,
  openUdfFile,
  openUdfVolume,
  walkTree,
  type UdfEntry,
  type UdfVolume,
} from '../formats/udf/volume.ts';
import { withFileSource } from '../io/file-source.ts';
import { writeOutputDirectory } from '../io/output.ts';
import { readWimInfo, type WimEdition } from './wim-info.ts';

export interface MediaImage {
  /** Path on the media as recorded, e.g. 'sources/install.wim'. */
  readonly path: string;
  readonly images: WimEdition[];
}

export interface MediaInfo {
  /** The UDF Logical Volume Identifier, e.g. SSS_X64FREE_EN-US_DV9. */
  readonly label: string;
  readonly install: MediaImage;
  /** Windows PE (sources/boot.wim); null on media without one. */
  readonly boot: MediaImage | null;
}

const NOT_MEDIA_HINT = 'give the ISO of Windows (Server) installation media, as Microsoft ships it';

function asAppError(e: unknown, where: string): unknown {
  if (!(e instanceof FormatError)) return e;
  return new AppError(e.code, `${where}: ${e.message}`, {
    hint: e.hint ?? `${where} is damaged or not what it should be; ${NOT_MEDIA_HINT}`,
    cause: e,
  });
}

async function openMedia(source: ByteSource, isoPath: string): Promise<UdfVolume> {
  try {
    return await openUdfVolume(source);
  } catch (e) {
    throw asAppError(e, isoPath);
  }
}

interface MediaFiles {
  readonly install: UdfEntry;
  readonly boot: UdfEntry | null;
}

/** Finds sources/install.wim (or install.esd) and sources/boot.wim, ignoring case. */
async function findMediaFiles(volume: UdfVolume, isoPath: string): Promise<MediaFiles> {
  try {
    const sources = await findEntry(volume, 'sources');
    if (sources === null || !sources.isDirectory) {
      const top = (await listDirectory(volume, volume.root)).map((e) => e.name);
      throw new AppError(
        'FORMAT_INVALID',
        `${isoPath} is a UDF image without a sources/ directory (its top level holds: ${top.join(', ') || 'nothing'})`,
        { hint: NOT_MEDIA_HINT },
      );
    }
    const entries = await listDirectory(volume, sources);
    const named = (name: string): UdfEntry | null =>
      entries.find((e) => !e.isDirectory && e.name.toLowerCase() === name) ?? null;
    const install = named('install.wim') ?? named('install.esd');
    if (install === null) {
      const split =
        named('install.swm') === null ? '' : ' (it has a split install.swm, which is not supported)';
      throw new AppError(
        'NOT_FOUND',
        `${isoPath} has no sources/install.wim or sources/install.esd${split}`,
        {
          hint: 'this looks like boot-only media; use the full installation ISO',
        },
      );
    }
    return { install, boot: named('boot.wim') };
  } catch (e) {
    throw asAppError(e, isoPath);
  }
}

async function describe(volume: UdfVolume, entry: UdfEntry, isoPath: string): Promise<MediaImage> {
  try {
    const info = await readWimInfo(await openUdfFile(volume, entry));
    return { path: entry.path, images: info.images };
  } catch (e) {
    throw asAppError(e, `${isoPath}:/${entry.path}`);
  }
}

/** Label and editions of Windows installation media, read in place. */
export async function readMediaInfo(isoPath: string): Promise<MediaInfo> {
  return withFileSource(isoPath, async (source) => {
    const volume = await openMedia(source, isoPath);
    const files = await findMediaFiles(volume, isoPath);
    return {
      label: volume.label,
      install: await describe(volume, files.install, isoPath),
      boot: files.boot === null ? null : await describe(volume, files.boot, isoPath),
    };
  });
}

export interface ExtractMediaOptions {
  /** The whole media, folders kept, instead of only the install and boot images. */
  readonly all?: boolean;
  readonly overwrite?: boolean;
  readonly onProgress?: ProgressListener;
}

export interface ExtractedFile {
  /** Path inside the output directory, '/'-separated. */
  readonly path: string;
  readonly size: number;
}

/**
 * Extracts the install image and boot.wim (directly into `outDir`), or with `all` the whole media
 * tree. `outDir` appears only when everything was extracted and checked.
 */
export async function extractMedia(
  isoPath: string,
  outDir: string,
  options: ExtractMediaOptions = {},
): Promise<ExtractedFile[]> {
  const plan = await withFileSource(isoPath, async (source) => {
    const volume = await openMedia(source, isoPath);
    const files = await findMediaFiles(volume, isoPath);
    if (options.all === true) {
      const tree = await walkTree(volume).catch((e: unknown) => {
        throw asAppError(e, isoPath);
      });
      return {
        paths: null,
        expected: tree.filter((e) => !e.isDirectory).map((e) => ({ path: e.path, size: e.size })),
      };
    }
    const wanted = files.boot === null ? [files.install] : [files.install, files.boot];
    return {
      paths: wanted.map((e) => e.path),
      expected: wanted.map((e) => ({ path: e.name, size: e.size })),
    };
  });
  const totalBytes = plan.expected.reduce((sum, f) => sum + f.size, 0);
  await writeOutputDirectory(
    outDir,
    async (tmpDir) => {
      await sevenZipExtract(isoPath, tmpDir, {
        type: 'udf',
        flat: plan.paths !== null,
        totalBytes,
        ...(plan.paths === null ? {} : { paths: plan.paths }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
      for (const file of plan.expected) await checkExtracted(tmpDir, file);
    },
    { overwrite: options.overwrite === true },
  );
  return plan.expected;
}

async function checkExtracted(dir: string, file: ExtractedFile): Promise<void> {
  const size = await stat(join(dir, file.path)).then(
    (s) => s.size,
    () => null,
  );
  if (size !== file.size) {
    throw new AppError(
      'PROGRAM_FAILED',
      `7zz extracted ${file.path} with ${size === null ? 'no file' : `${size} bytes`}, expected ${file.size} bytes`,
      { hint: 'the ISO may be damaged; check it against its published checksum' },
    );
  }
}
