// WIM work through wimlib-imagex (Debian `wimtools`): capture, apply, list, extract, update, export,
// optimize, split, join, verify, delete. Options and output as in wimlib's man pages
// (doc/man1/wim*.1 of wimlib 1.13). A source or target that is a regular file or a block device is
// an NTFS volume, read or written by wimlib's NTFS-3G mode with no mount.

import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { ProgressListener } from '../core/progress.ts';
import { runProgram, type RunResult } from './run.ts';
import { parseWimlibProgress } from './wimlib-progress.ts';

export type WimCompression = 'none' | 'XPRESS' | 'LZX' | 'LZMS';

export interface CaptureOptions {
  name: string;
  description?: string;
  compression?: WimCompression;
  solid?: boolean;
  chunkSize?: number;
  /** wimlib --image-property NAME=VALUE, e.g. { 'WINDOWS/EDITIONID': 'ServerStandard' } */
  imageProperties?: Readonly<Record<string, string>>;
  flags?: string;
  check?: boolean;
  onProgress?: ProgressListener;
}

/** Other parts of a split WIM; found beside a `.swm` part 1 when not given. */
interface RefOptions {
  refs?: readonly string[];
  onProgress?: ProgressListener;
}

export type ApplyOptions = RefOptions;

export type ExtractOptions = RefOptions & {
  /** Do not restore security descriptors (needed when the target cannot hold them). */
  noAcls?: boolean;
};

export interface ExportOptions extends RefOptions {
  name?: string;
  description?: string;
  compression?: WimCompression;
  solid?: boolean;
  check?: boolean;
}

export interface OptimizeOptions {
  recompress?: boolean;
  compression?: WimCompression;
  check?: boolean;
  onProgress?: ProgressListener;
}

export interface WimFileEntry {
  /** Absolute path inside the image, '/'-separated, starting with '/'. */
  path: string;
  /** Bytes of the unnamed data stream (0 for directories and empty files). */
  size: number;
  isDir: boolean;
  /** SHA-1 of the unnamed data stream in hex, null when there is none (directories, empty files). */
  sha1: string | null;
}

export type WimUpdateCommand =
  | { op: 'add'; source: string; dest: string }
  | { op: 'delete'; path: string; recursive?: boolean }
  | { op: 'rename'; from: string; to: string };

const FILE_ATTRIBUTE_DIRECTORY = 0x10;
const NO_HASH = '0'.repeat(40);

function progressOptions(onProgress: ProgressListener | undefined): {
  onLine?: (line: string) => void;
} {
  if (onProgress === undefined) return {};
  return {
    onLine(line) {
      const event = parseWimlibProgress(line);
      if (event !== null) onProgress(event);
    },
  };
}

/** Exit codes are wimlib's error codes (include/wimlib.h, enum wimlib_error_code). */
const WIMLIB_ERR_PATH_DOES_NOT_EXIST = 49;
const ANY_EXIT_CODE = Array.from({ length: 256 }, (_, i) => i);

/**
 * wimlib-imagex explains a failure in a `[ERROR] …` line (e.g. `Path "/x" does not exist in WIM
 * image 1`) before a generic last line; the error quotes the specific one.
 */
function wimlibFailed(args: readonly string[], result: RunResult): AppError {
  const lines = result.stderr
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const specific = lines.find((l) => l.startsWith('[ERROR] '))?.slice('[ERROR] '.length);
  const detail = specific ?? lines.at(-1) ?? 'no message';
  const message = `wimlib-imagex ${args[0] ?? ''} failed (exit ${result.exitCode}): ${detail}`;
  const cause = new Error(result.stderr);
  if (result.exitCode === WIMLIB_ERR_PATH_DOES_NOT_EXIST) {
    return new AppError('NOT_FOUND', message, { hint: 'list the image with `winsmith image files`', cause });
  }
  return new AppError('PROGRAM_FAILED', message, {
    hint: "the message is wimlib's own; run with --debug to see all it printed",
    cause,
  });
}

async function run(
  args: readonly string[],
  onProgress?: ProgressListener,
  input?: string,
): Promise<RunResult> {
  const result = await runProgram('wimlib-imagex', args, {
    ...progressOptions(onProgress),
    ...(input === undefined ? {} : { input }),
    okExitCodes: ANY_EXIT_CODE,
  });
  if (result.exitCode !== 0) throw wimlibFailed(args, result);
  return result;
}

function compressionArgs(compression: WimCompression | undefined, solid: boolean | undefined): string[] {
  const args = compression === undefined ? [] : [`--compress=${compression}`];
  if (solid === true) args.push('--solid');
  return args;
}

/** The other parts of split WIM `firstPart` (`X.swm`): the files `X*.swm` beside it, by name. */
export async function findSplitParts(firstPart: string): Promise<string[]> {
  const dir = dirname(firstPart);
  const name = basename(firstPart);
  if (!name.toLowerCase().endsWith('.swm')) return [];
  const stem = name.slice(0, -4);
  const names = await readdir(dir);
  return names
    .filter((n) => n !== name && n.startsWith(stem) && n.toLowerCase().endsWith('.swm'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((n) => join(dir, n));
}

async function refArgs(wimPath: string, refs: readonly string[] | undefined): Promise<string[]> {
  return (refs ?? (await findSplitParts(wimPath))).map((r) => `--ref=${r}`);
}

function captureArgs(options: CaptureOptions): string[] {
  const args = [options.name];
  if (options.description !== undefined) args.push(options.description);
  args.push(...compressionArgs(options.compression, options.solid));
  if (options.chunkSize !== undefined) args.push(`--chunk-size=${options.chunkSize}`);
  for (const [name, value] of Object.entries(options.imageProperties ?? {})) {
    args.push('--image-property', `${name}=${value}`);
  }
  if (options.flags !== undefined) args.push(`--flags=${options.flags}`);
  if (options.check === true) args.push('--check');
  return args;
}

/** source: a directory, or an NTFS volume in a regular file or block device (wimlib's NTFS-3G mode, no mount). */
export async function wimCapture(source: string, wimPath: string, options: CaptureOptions): Promise<void> {
  await run(['capture', source, wimPath, ...captureArgs(options)], options.onProgress);
}

/** Adds `source` as a new image at the end of an existing WIM. */
export async function wimAppend(source: string, wimPath: string, options: CaptureOptions): Promise<void> {
  await run(['append', source, wimPath, ...captureArgs(options)], options.onProgress);
}

/** target: a directory, or an empty NTFS volume in a regular file or block device. */
export async function wimApply(
  wimPath: string,
  index: number,
  target: string,
  options: ApplyOptions = {},
): Promise<void> {
  await run(
    ['apply', wimPath, String(index), target, ...(await refArgs(wimPath, options.refs))],
    options.onProgress,
  );
}

function quotedValue(line: string): string | null {
  const start = line.indexOf('"');
  const end = line.lastIndexOf('"');
  return start >= 0 && end > start ? line.slice(start + 1, end) : null;
}

function fieldValue(line: string): string {
  return line.slice(line.indexOf('=') + 1).trim();
}

/**
 * Parses `wimlib-imagex dir --detailed`: blocks of `Name = value` lines divided by dashes, the
 * unnamed data stream's `Hash` and `Uncompressed size` after a `Unnamed data stream:` line.
 */
export function parseWimDirDetailed(output: string): WimFileEntry[] {
  const entries: WimFileEntry[] = [];
  for (const block of output.split(/^-{20,}$/m)) {
    let path: string | null = null;
    let attributes = 0;
    let section = '';
    let size = 0;
    let sha1: string | null = null;
    for (const rawLine of block.split('\n')) {
      const line = rawLine.trim();
      if (line.startsWith('Full Path ')) path = quotedValue(line);
      else if (line.startsWith('Attributes ')) attributes = Number.parseInt(fieldValue(line), 16);
      // A stream's section starts with a line of its own: `Unnamed data stream:`,
      // `Named data stream "NAME":`, `Reparse point stream:`.
      else if (line.endsWith(':') && !line.includes('=')) section = line;
      else if (section === 'Unnamed data stream:' && line.startsWith('Hash ')) {
        const hash = fieldValue(line).replace(/^0x/, '');
        sha1 = hash === NO_HASH ? null : hash;
      } else if (section === 'Unnamed data stream:' && line.startsWith('Uncompressed size ')) {
        size = Number.parseInt(fieldValue(line), 10);
      }
    }
    if (path !== null) {
      entries.push({ path, size, isDir: (attributes & FILE_ATTRIBUTE_DIRECTORY) !== 0, sha1 });
    }
  }
  return entries;
}

/** Every file and directory of image `index`, or of the subtree at `path` (which is included). */
export async function wimListFiles(
  wimPath: string,
  index: number,
  options: { path?: string; refs?: readonly string[] } = {},
): Promise<WimFileEntry[]> {
  // A split WIM's part 1 has the metadata but not the other parts' blob table entries, which
  // hold the sizes: without --ref, wimdir prints no size for files stored in those parts.
  const args = ['dir', wimPath, String(index), '--detailed', ...(await refArgs(wimPath, options.refs))];
  if (options.path !== undefined) args.push(`--path=${options.path}`);
  const result = await run(args);
  return parseWimDirDetailed(result.stdout.toString('utf8'));
}

/**
 * Extracts `paths` (absolute paths in the image; a directory comes with its contents) into
 * `destDir`, each under its base name, as wimextract does.
 */
export async function wimExtract(
  wimPath: string,
  index: number,
  paths: readonly string[],
  destDir: string,
  options: ExtractOptions = {},
): Promise<void> {
  const wimPaths = paths.map((p) => (p.startsWith('/') ? p : `/${p}`));
  const args = ['extract', wimPath, String(index), ...wimPaths, `--dest-dir=${destDir}`, '--no-globs'];
  if (options.noAcls === true) args.push('--no-acls');
  args.push(...(await refArgs(wimPath, options.refs)));
  await run(args, options.onProgress);
}

/** One argument of a wimupdate command line, quoted as its parser reads quotes. */
function updateArg(value: string): string {
  if (/[\n\r]/.test(value) || (value.includes('"') && value.includes("'"))) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `the path ${JSON.stringify(value)} cannot be passed to wimupdate (it has a line break or both kinds of quote)`,
      { hint: 'rename the file first' },
    );
  }
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

function updateLine(command: WimUpdateCommand): string {
  switch (command.op) {
    case 'add':
      return `add ${updateArg(command.source)} ${updateArg(command.dest)}`;
    case 'delete':
      return `delete ${command.recursive === true ? '--recursive ' : ''}${updateArg(command.path)}`;
    case 'rename':
      return `rename ${updateArg(command.from)} ${updateArg(command.to)}`;
  }
}

/** Changes image `index` in place: adds host files, deletes and renames paths. */
export async function wimUpdate(
  wimPath: string,
  index: number,
  commands: readonly WimUpdateCommand[],
  options: { check?: boolean; onProgress?: ProgressListener } = {},
): Promise<void> {
  const args = ['update', wimPath, String(index)];
  if (options.check === true) args.push('--check');
  await run(args, options.onProgress, commands.map((c) => `${updateLine(c)}\n`).join(''));
}

/** Copies image `index` (or all images) into `destWim`, creating it or appending to it. */
export async function wimExport(
  srcWim: string,
  index: number | 'all',
  destWim: string,
  options: ExportOptions = {},
): Promise<void> {
  const args = ['export', srcWim, index === 'all' ? 'all' : String(index), destWim];
  if (options.name !== undefined) args.push(options.name);
  if (options.name !== undefined && options.description !== undefined) args.push(options.description);
  args.push(...compressionArgs(options.compression, options.solid));
  if (options.check === true) args.push('--check');
  args.push(...(await refArgs(srcWim, options.refs)));
  await run(args, options.onProgress);
}

/** Rewrites the WIM without holes; with `recompress`, compresses everything again. */
export async function wimOptimize(wimPath: string, options: OptimizeOptions = {}): Promise<void> {
  const args = ['optimize', wimPath];
  if (options.recompress === true) args.push('--recompress');
  if (options.compression !== undefined) args.push(`--compress=${options.compression}`);
  if (options.check === true) args.push('--check');
  await run(args, options.onProgress);
}

/** Splits into parts of at most `partSizeMiB` (single files larger than that make bigger parts). */
export async function wimSplit(
  wimPath: string,
  firstPart: string,
  partSizeMiB: number,
  options: { onProgress?: ProgressListener } = {},
): Promise<string[]> {
  await run(['split', wimPath, firstPart, String(partSizeMiB)], options.onProgress);
  return [firstPart, ...(await findSplitParts(firstPart))];
}

/** Joins the parts of a split WIM into one WIM. */
export async function wimJoin(
  outWim: string,
  parts: readonly string[],
  options: { onProgress?: ProgressListener } = {},
): Promise<void> {
  await run(['join', outWim, ...parts], options.onProgress);
}

/** Checks the integrity table (if any), every image's metadata and every blob's SHA-1. */
export async function wimVerify(wimPath: string, options: RefOptions = {}): Promise<void> {
  await run(['verify', wimPath, ...(await refArgs(wimPath, options.refs))], options.onProgress);
}

/** Removes image `index` from the WIM. */
export async function wimDeleteImage(wimPath: string, index: number): Promise<void> {
  await run(['delete', wimPath, String(index)]);
}

/**
 * Sets properties of image `index` in the WIM's XML (wiminfo --image-property): NAME, DESCRIPTION,
 * DISPLAYNAME, FLAGS, or any 'A/B' path, which becomes the element <A><B>value</B></A>.
 */
export async function wimSetImageProperties(
  wimPath: string,
  index: number,
  properties: Readonly<Record<string, string>>,
): Promise<void> {
  const args = ['info', wimPath, String(index)];
  for (const [name, value] of Object.entries(properties)) args.push('--image-property', `${name}=${value}`);
  await run(args);
}

/** The XML data resource as wimlib-imagex reads it (UTF-16LE bytes with a byte-order mark). */
export async function wimInfoXml(wimPath: string): Promise<Uint8Array> {
  return (await run(['info', wimPath, '--xml'])).stdout;
}
