// WIM work through wimlib-imagex (Debian `wimtools`): capture, apply, extract, export, optimize,
// split, join, verify, delete. Options and output as in wimlib's man pages (doc/man1/wim*.1 of
// wimlib 1.13). Listing (an image, or one directory) and in-place updates (files and image
// properties) go through winsmith-wim (native/wim.c, on libwim). A source or target that is a
// regular file or a block device is an NTFS volume, read or written by wimlib's NTFS-3G mode with
// no mount.

import { readdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { basename, dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { AppError } from '../core/errors.ts';
import type { ProgressListener } from '../core/progress.ts';
import { runProgram, startProgram, type RunResult, type StartedProgram } from './run.ts';
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
  /** Write a pipable WIM (one that can be applied as it is read from a pipe). */
  pipable?: boolean;
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
  | { op: 'delete'; path: string }
  | { op: 'rename'; from: string; to: string };

const FILE_ATTRIBUTE_DIRECTORY = 0x10;

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
function wimlibFailed(program: string, args: readonly string[], result: RunResult): AppError {
  const lines = result.stderr
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const specific = lines.find((l) => l.startsWith('[ERROR] '))?.slice('[ERROR] '.length);
  const detail = specific ?? lines.at(-1) ?? 'no message';
  const message = `${program} ${args[0] ?? ''} failed (exit ${result.exitCode}): ${detail}`;
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
  program: 'wimlib-imagex' | 'winsmith-wim' = 'wimlib-imagex',
): Promise<RunResult> {
  const result = await runProgram(program, args, {
    ...progressOptions(onProgress),
    ...(input === undefined ? {} : { input }),
    okExitCodes: ANY_EXIT_CODE,
  });
  if (result.exitCode !== 0) throw wimlibFailed(program, args, result);
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

/** A capture written to a pipe as it is made: a pipable WIM (wimlib's variant) on `stdout`. */
export interface CaptureStream {
  /** The WIM's bytes, read at the reader's pace (wimlib waits for it). */
  readonly stdout: Readable;
  /** wimlib's end: rejects when it failed. */
  readonly done: Promise<void>;
}

/**
 * Captures `source` (a directory, or an NTFS volume in a block device or a file, opened read only
 * by wimlib's NTFS-3G mode) as `options` say, written to stdout as a pipable WIM.
 */
export function wimCaptureStream(
  source: string,
  options: CaptureOptions & { readonly signal?: AbortSignal },
): CaptureStream {
  const started = startProgram('wimlib-imagex', ['capture', source, '-', ...captureArgs(options)], {
    pipeStdout: true,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onLine(line) {
      const event = parseWimlibProgress(line);
      if (event !== null) options.onProgress?.(event);
    },
  });
  started.stdin.end();
  return { stdout: started.stdout, done: started.done.then(() => undefined) };
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

/**
 * Reads `winsmith-wim list`: per entry four NUL-terminated fields — path, attributes (decimal),
 * size of the unnamed data stream, its SHA-1 in hex (empty when it has none).
 */
export function parseWimList(output: string): WimFileEntry[] {
  const fields = output.split('\0');
  const entries: WimFileEntry[] = [];
  for (let i = 0; i + 4 < fields.length; i += 4) {
    const [path = '', attributes = '', size = '', sha1 = ''] = fields.slice(i, i + 4);
    entries.push(entryOf(path, attributes, size, sha1));
  }
  return entries;
}

function entryOf(path: string, attributes: string, size: string, sha1: string): WimFileEntry {
  return {
    path,
    size: Number(size),
    isDir: (Number(attributes) & FILE_ATTRIBUTE_DIRECTORY) !== 0,
    sha1: sha1 === '' ? null : sha1,
  };
}

/** Every file and directory of image `index`, or of the subtree at `path` (which is included). */
export async function wimListFiles(
  wimPath: string,
  index: number,
  options: { path?: string; refs?: readonly string[] } = {},
): Promise<WimFileEntry[]> {
  // A split WIM's part 1 has the metadata but not the other parts' blob table entries, which
  // hold the sizes: the other parts are referenced too.
  const refs = options.refs ?? (await findSplitParts(wimPath));
  const args = ['list', wimPath, String(index), options.path ?? '/', ...refs];
  const result = await run(args, undefined, undefined, 'winsmith-wim');
  return parseWimList(result.stdout.toString('utf8'));
}

/**
 * One directory of image `index`: the entry at `path` (which may be a file), then the entries
 * directly in it. A split WIM's other parts are referenced, as for wimListFiles.
 */
export async function wimListDir(
  wimPath: string,
  index: number,
  path: string,
): Promise<{ entry: WimFileEntry; children: WimFileEntry[] }> {
  const refs = await findSplitParts(wimPath);
  const result = await run(
    ['dir', wimPath, String(index), path, ...refs],
    undefined,
    undefined,
    'winsmith-wim',
  );
  const [entry, ...children] = parseWimList(result.stdout.toString('utf8'));
  if (entry === undefined) throw new AppError('INTERNAL', `winsmith-wim dir listed nothing for ${path}`);
  return { entry, children };
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

/**
 * The compression level of what an update writes: new files and the image's metadata, which every
 * update compresses again. wimlib's default (50) makes the metadata of a Windows image 1–2% smaller
 * for about three times the time; `image optimize --recompress` compresses it all at the default again.
 */
const UPDATE_COMPRESSION_LEVEL = 20;

function updateFields(command: WimUpdateCommand): string[] {
  switch (command.op) {
    case 'add':
      return ['add', command.source, command.dest];
    case 'delete':
      return ['delete', command.path];
    case 'rename':
      return ['rename', command.from, command.to];
  }
}

/** winsmith-wim session's input: each field ended by NUL (which no field may hold). */
function sessionInput(fields: readonly string[]): string {
  const bad = fields.find((f) => f.includes('\0'));
  if (bad !== undefined) {
    throw new AppError('INVALID_ARGUMENT', `${JSON.stringify(bad)} has a NUL character`, {
      hint: 'paths and property values cannot hold NUL',
    });
  }
  return fields.map((f) => `${f}\0`).join('');
}

function commitFields(
  commands: readonly WimUpdateCommand[],
  properties: Readonly<Record<string, string>>,
): string[] {
  const fields = commands.flatMap(updateFields);
  for (const [name, value] of Object.entries(properties)) fields.push('property', name, value);
  fields.push('commit');
  return fields;
}

function sessionArgs(wimPath: string, index: number): string[] {
  return ['session', wimPath, String(index), String(UPDATE_COMPRESSION_LEVEL)];
}

/**
 * Changes image `index` in place, in one write: adds host files or directories (replacing what is
 * there), deletes paths with what is under them, renames, and sets image properties: NAME,
 * DESCRIPTION, DISPLAYNAME, FLAGS, or any 'A/B' path, which becomes the element <A><B>value</B></A>.
 */
export async function wimUpdate(
  wimPath: string,
  index: number,
  commands: readonly WimUpdateCommand[],
  options: { properties?: Readonly<Record<string, string>>; onProgress?: ProgressListener } = {},
): Promise<void> {
  const input = sessionInput(commitFields(commands, options.properties ?? {}));
  await run(sessionArgs(wimPath, index), options.onProgress, input, 'winsmith-wim');
}

/**
 * One image worked on through one opening of its WIM (`winsmith-wim session`): list it, extract
 * from it, then change it in one write — each opening reads and decompresses the image's metadata,
 * the larger part of what a small change costs. `close` without `commit` leaves the WIM as it was.
 */
export class WimSession {
  readonly #program: StartedProgram;
  readonly #ended: Promise<void>;
  #over = false;
  #failure: Error | null = null;
  /** Output fields not yet taken: those of #fields from #taken on. */
  #fields: string[] = [];
  #taken = 0;
  #pending = '';
  readonly #decoder = new StringDecoder('utf8');
  #wake: (() => void) | null = null;

  private constructor(wimPath: string, index: number, onProgress: ProgressListener | undefined) {
    const args = sessionArgs(wimPath, index);
    this.#program = startProgram('winsmith-wim', args, {
      ...progressOptions(onProgress),
      okExitCodes: ANY_EXIT_CODE,
      onStdout: (chunk) => {
        // The decoder keeps a character split between two chunks for the next.
        const parts = (this.#pending + this.#decoder.write(chunk)).split('\0');
        this.#pending = parts.pop() ?? '';
        if (this.#taken === this.#fields.length) {
          this.#fields = parts;
          this.#taken = 0;
        } else {
          for (const part of parts) this.#fields.push(part);
        }
        this.#wake?.();
      },
    });
    this.#ended = this.#program.done.then(
      (result) => {
        if (result.exitCode !== 0) this.#failure = wimlibFailed('winsmith-wim', args, result);
        this.#over = true;
        this.#wake?.();
      },
      (e: unknown) => {
        this.#failure = e instanceof Error ? e : new Error(String(e));
        this.#over = true;
        this.#wake?.();
      },
    );
  }

  static open(wimPath: string, index: number, options: { onProgress?: ProgressListener } = {}): WimSession {
    return new WimSession(wimPath, index, options.onProgress);
  }

  #send(fields: readonly string[]): void {
    this.#program.stdin.write(sessionInput(fields));
  }

  /** The program's next output field, once it has written it. */
  async #field(): Promise<string> {
    for (;;) {
      if (this.#taken < this.#fields.length) return this.#fields[this.#taken++] ?? '';
      if (this.#over) {
        throw (
          this.#failure ??
          new AppError('PROGRAM_FAILED', 'winsmith-wim session ended before it answered', {
            hint: 'run with --debug to see what it printed',
          })
        );
      }
      await new Promise<void>((wake) => {
        this.#wake = wake;
      });
      this.#wake = null;
    }
  }

  async #expect(word: string): Promise<void> {
    const got = await this.#field();
    if (got !== word)
      throw new AppError('INTERNAL', `winsmith-wim session said ${JSON.stringify(got)}, not ${word}`);
  }

  /** Every file and directory of the image. */
  async list(): Promise<WimFileEntry[]> {
    this.#send(['list']);
    const entries: WimFileEntry[] = [];
    for (;;) {
      const path = await this.#field();
      if (path === '') return entries;
      entries.push(entryOf(path, await this.#field(), await this.#field(), await this.#field()));
    }
  }

  /** Extracts `paths` (absolute image paths) into `destDir`, each under its base name. */
  async extract(paths: readonly string[], destDir: string): Promise<void> {
    if (paths.length === 0) return;
    this.#send(['extract', destDir, String(paths.length), ...paths]);
    await this.#expect('extracted');
  }

  /** Adds, deletes, renames and sets properties in one write, then ends the session. */
  async commit(
    commands: readonly WimUpdateCommand[],
    properties: Readonly<Record<string, string>>,
  ): Promise<void> {
    this.#send(commitFields(commands, properties));
    await this.#expect('committed');
    await this.close();
  }

  /** Ends the session (without writing, unless committed) and waits for the program to exit. */
  async close(): Promise<void> {
    this.#program.stdin.end();
    await this.#ended;
    if (this.#failure !== null) throw this.#failure;
  }
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
  if (options.pipable === true) args.push('--pipable');
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

/** The XML data resource as wimlib-imagex reads it (UTF-16LE bytes with a byte-order mark). */
export async function wimInfoXml(wimPath: string): Promise<Uint8Array> {
  return (await run(['info', wimPath, '--xml'])).stdout;
}

/** Whether image `index` holds `path` (a file or a directory; what is under it is not listed). */
export async function wimHasPath(wimPath: string, index: number, path: string): Promise<boolean> {
  try {
    await run([
      'dir',
      wimPath,
      String(index),
      `--path=${path}`,
      '--one-file-only',
      ...(await refArgs(wimPath, undefined)),
    ]);
    return true;
  } catch (e) {
    if (e instanceof AppError && e.code === 'NOT_FOUND') return false;
    throw e;
  }
}
