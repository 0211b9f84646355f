// Archives and disc images through 7-Zip (Debian package 7zip, program 7zz). winsmith uses it to
// extract from Windows installation media, which are UDF (7-Zip reads UDF; bsdtar and xorriso see
// only the ISO 9660 bridge).
//
// Progress: with -bsp1 7zz writes its percentage to stdout, redrawn in place with backspaces
// ("  32% - sources/install.wim\b\b\b…"), so stdout is read as it comes and the last "N%" counts.

import type { ProgressListener } from '../core/progress.ts';
import { runProgram } from './run.ts';

export type SevenZipType = 'udf' | 'iso' | 'wim';

export interface SevenZipExtractOptions {
  /** Archive type (7zz -t); 7zz guesses when absent. */
  readonly type?: SevenZipType;
  /** Paths inside the archive to extract, exactly as recorded (no wildcards); everything when absent. */
  readonly paths?: readonly string[];
  /** Put every file directly in the output directory, dropping its folders (7zz e instead of x). */
  readonly flat?: boolean;
  /** Bytes the extraction will write, so progress can be reported in bytes (percent otherwise). */
  readonly totalBytes?: number;
  readonly onProgress?: ProgressListener;
}

/** The last percentage a chunk of 7zz's -bsp1 output shows, or null when it shows none. */
export function parseSevenZipPercent(text: string): number | null {
  let last: number | null = null;
  for (const m of text.matchAll(/(\d{1,3})%/g)) {
    const value = Number(m[1]);
    if (value <= 100) last = value;
  }
  return last;
}

/** Extracts `archive` (or the named paths of it) into the existing directory `outDir`. */
export async function sevenZipExtract(
  archive: string,
  outDir: string,
  options: SevenZipExtractOptions = {},
): Promise<void> {
  const args = [
    options.flat === true ? 'e' : 'x',
    ...(options.type === undefined ? [] : [`-t${options.type}`]),
    '-y',
    '-spd',
    '-bso0',
    '-bsp1',
    `-o${outDir}`,
    '--',
    archive,
    ...(options.paths ?? []),
  ];
  const onProgress = options.onProgress;
  const total = options.totalBytes;
  await runProgram('7zz', args, {
    onStdout: (chunk) => {
      const percent = parseSevenZipPercent(chunk.toString('latin1'));
      if (percent === null || onProgress === undefined) return;
      if (total === undefined) onProgress({ phase: 'Extracting', done: percent, total: 100, unit: 'items' });
      else
        onProgress({ phase: 'Extracting', done: Math.round((total * percent) / 100), total, unit: 'bytes' });
    },
  });
}

export interface SevenZipEntry {
  readonly path: string;
  readonly isDirectory: boolean;
  /** Bytes; 0 for directories. */
  readonly size: number;
}

/** What 7zz lists in an archive (`7zz l -slt`), in its order. */
export async function sevenZipList(archive: string, type?: SevenZipType): Promise<SevenZipEntry[]> {
  const { stdout } = await runProgram('7zz', [
    'l',
    '-slt',
    ...(type === undefined ? [] : [`-t${type}`]),
    '--',
    archive,
  ]);
  const text = stdout.toString('utf8');
  const listing = text.slice(text.indexOf('\n----------\n') + 1);
  const entries: SevenZipEntry[] = [];
  for (const block of listing.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const eq = line.indexOf(' = ');
      if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 3));
    }
    const path = fields.get('Path');
    if (path === undefined) continue;
    const isDirectory = fields.get('Folder') === '+';
    entries.push({ path, isDirectory, size: isDirectory ? 0 : Number(fields.get('Size') ?? '0') });
  }
  return entries;
}
