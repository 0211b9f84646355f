// `winsmith image diff A.wim[:I] B.wim[:J]`: what differs between two images — files (by size and
// SHA-1 from the WIM metadata, nothing extracted), registry keys and values of the standard hives
// that differ (both sides extracted and compared with src/formats/regf), driver packages (INF files
// in the image and DriverDatabase\DriverInfFiles), and Windows\Panther\unattend.xml compared
// setting by setting (each element path with its pass and component, and its text).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { XMLParser } from 'fast-xml-parser';
import type { ErrorCode } from '../core/error-codes.ts';
import { AppError } from '../core/errors.ts';
import { wimExtract, wimListFiles, type WimFileEntry } from '../engines/wimlib.ts';
import { decodeRegData, Hive, regTypeName, type HiveKey, type RegValue } from '../formats/regf/index.ts';
import { xmlWellFormedError } from '../formats/unattend/index.ts';
import { withTempDir } from '../io/output.ts';
import { IMAGE_HIVES, type ImageHiveName } from './recipe/hive-paths.ts';
import { hiveFiles } from './recipe/image-work.ts';
import { loadWimInfo, parseWimRef, resolveImageIndex } from './wim-ref.ts';

export interface FileChange {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly isDir: boolean;
  readonly sizeA?: number;
  readonly sizeB?: number;
  readonly sha1A?: string | null;
  readonly sha1B?: string | null;
}

export interface RegistryChange {
  readonly hive: ImageHiveName;
  /** Key path from the hive root ('\\A\\B'). */
  readonly key: string;
  /** Absent for a key added or removed (with everything below it). */
  readonly value?: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly a?: string;
  readonly b?: string;
}

export interface DriverChange {
  readonly inf: string;
  readonly change: 'added' | 'removed';
  /** 'file' for an INF file in the image, 'DriverDatabase' for a DriverInfFiles entry. */
  readonly where: 'file' | 'DriverDatabase';
}

export interface UnattendChange {
  /** pass/component/Element/Sub… */
  readonly setting: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly a?: string;
  readonly b?: string;
}

export interface ImageDiff {
  readonly a: { readonly path: string; readonly index: number };
  readonly b: { readonly path: string; readonly index: number };
  readonly files: readonly FileChange[];
  readonly registry: readonly RegistryChange[];
  readonly drivers: readonly DriverChange[];
  readonly unattend: readonly UnattendChange[];
}

export const UNATTEND_PATH = '/Windows/Panther/unattend.xml';

function byPath(files: readonly WimFileEntry[]): Map<string, WimFileEntry> {
  return new Map(files.map((f) => [f.path.toLowerCase(), f]));
}

export function diffFiles(a: readonly WimFileEntry[], b: readonly WimFileEntry[]): FileChange[] {
  const ma = byPath(a);
  const mb = byPath(b);
  const out: FileChange[] = [];
  for (const [k, fa] of ma) {
    const fb = mb.get(k);
    if (fb === undefined)
      out.push({ path: fa.path, change: 'removed', isDir: fa.isDir, sizeA: fa.size, sha1A: fa.sha1 });
    else if (!fa.isDir && (fa.size !== fb.size || fa.sha1 !== fb.sha1 || fa.isDir !== fb.isDir)) {
      out.push({
        path: fb.path,
        change: 'changed',
        isDir: fb.isDir,
        sizeA: fa.size,
        sizeB: fb.size,
        sha1A: fa.sha1,
        sha1B: fb.sha1,
      });
    }
  }
  for (const [k, fb] of mb) {
    if (!ma.has(k))
      out.push({ path: fb.path, change: 'added', isDir: fb.isDir, sizeB: fb.size, sha1B: fb.sha1 });
  }
  return out.sort((x, y) => x.path.localeCompare(y.path));
}

/** A value as text: strings as they are, numbers in decimal, anything else in hex. */
function showValue(v: RegValue): string {
  const data = decodeRegData(v);
  const text =
    typeof data === 'string'
      ? data
      : typeof data === 'number' || typeof data === 'bigint'
        ? String(data)
        : data instanceof Uint8Array
          ? Buffer.from(data).toString('hex')
          : data.join(', ');
  return `${regTypeName(v.type)}:${text}`;
}

function sameValue(x: RegValue, y: RegValue): boolean {
  return x.type === y.type && Buffer.from(x.data).equals(Buffer.from(y.data));
}

/** Key and value differences between two hives; a key only on one side is reported once. */
export function diffHives(hive: ImageHiveName, a: Hive, b: Hive): RegistryChange[] {
  const out: RegistryChange[] = [];
  const visit = (ka: HiveKey, kb: HiveKey): void => {
    const va = new Map(ka.values().map((v) => [v.name.toLowerCase(), v]));
    const vb = new Map(kb.values().map((v) => [v.name.toLowerCase(), v]));
    for (const [n, x] of va) {
      const y = vb.get(n);
      if (y === undefined)
        out.push({ hive, key: ka.path, value: x.name, change: 'removed', a: showValue(x) });
      else if (!sameValue(x, y))
        out.push({ hive, key: ka.path, value: x.name, change: 'changed', a: showValue(x), b: showValue(y) });
    }
    for (const [n, y] of vb)
      if (!va.has(n)) out.push({ hive, key: kb.path, value: y.name, change: 'added', b: showValue(y) });
    const sa = new Map(ka.subkeys().map((k) => [k.name.toLowerCase(), k]));
    const sb = new Map(kb.subkeys().map((k) => [k.name.toLowerCase(), k]));
    for (const [n, x] of sa) {
      const y = sb.get(n);
      if (y === undefined) out.push({ hive, key: x.path, change: 'removed' });
      else visit(x, y);
    }
    for (const [n, y] of sb) if (!sa.has(n)) out.push({ hive, key: y.path, change: 'added' });
  };
  visit(a.root, b.root);
  return out;
}

/** DriverDatabase\DriverInfFiles entries of a SYSTEM hive (lower-cased INF names). */
function driverInfs(system: Hive | undefined): Set<string> {
  return new Set(
    (system?.getKey('DriverDatabase\\DriverInfFiles')?.subkeys() ?? []).map((k) => k.name.toLowerCase()),
  );
}

function infFiles(files: readonly WimFileEntry[]): Map<string, string> {
  return new Map(
    files
      .filter((f) => !f.isDir && f.path.toLowerCase().endsWith('.inf'))
      .map((f) => [f.path.toLowerCase(), f.path]),
  );
}

export function diffDrivers(
  filesA: readonly WimFileEntry[],
  filesB: readonly WimFileEntry[],
  systemA: Hive | undefined,
  systemB: Hive | undefined,
): DriverChange[] {
  const out: DriverChange[] = [];
  const fa = infFiles(filesA);
  const fb = infFiles(filesB);
  for (const [k, p] of fa) if (!fb.has(k)) out.push({ inf: p, change: 'removed', where: 'file' });
  for (const [k, p] of fb) if (!fa.has(k)) out.push({ inf: p, change: 'added', where: 'file' });
  const da = driverInfs(systemA);
  const db = driverInfs(systemB);
  for (const n of da) if (!db.has(n)) out.push({ inf: n, change: 'removed', where: 'DriverDatabase' });
  for (const n of db) if (!da.has(n)) out.push({ inf: n, change: 'added', where: 'DriverDatabase' });
  return out;
}

/** Passwords (encoded or not, they are readable) are shown by a short SHA-256 of their value. */
function shown(path: string, value: string): string {
  if (!/Password\/Value$/i.test(path)) return value;
  return `(password, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 12)})`;
}

/**
 * The settings of an unattend.xml as 'pass/component/Element/Sub…' → text. List items
 * (wcm:action="add") are named by their position; attributes other than the component's identity
 * become '@name' entries.
 */
export function unattendSettings(xml: string): Map<string, string> {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  });
  const bad = xmlWellFormedError(xml);
  if (bad !== undefined) {
    throw new AppError(
      'FORMAT_INVALID',
      `unattend.xml is not well-formed XML: line ${bad.line}: ${bad.message}`,
      {
        hint: 'check the answer file with `winsmith unattend lint`',
      },
    );
  }
  const doc: unknown = parser.parse(xml);
  const out = new Map<string, string>();
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null) {
      out.set(path, shown(path, String(node)));
      return;
    }
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('@')) {
        if (!['@xmlns', '@action', '@keyValue'].includes(k)) out.set(`${path}/${k}`, String(v));
        continue;
      }
      if (k === '#text') {
        out.set(path, shown(path, String(v)));
        continue;
      }
      const list = Array.isArray(v) ? (v as unknown[]) : [v];
      list.forEach((item, i) => walk(item, list.length > 1 ? `${path}/${k}[${i + 1}]` : `${path}/${k}`));
    }
  };
  const root = (doc as { unattend?: unknown[] }).unattend?.[0] as { settings?: unknown[] } | undefined;
  for (const s of root?.settings ?? []) {
    const settings = s as Record<string, unknown>;
    const pass = typeof settings['@pass'] === 'string' ? settings['@pass'] : '?';
    for (const c of (settings['component'] as unknown[] | undefined) ?? []) {
      const comp = c as Record<string, unknown>;
      const name = typeof comp['@name'] === 'string' ? comp['@name'] : '?';
      for (const [k, v] of Object.entries(comp)) {
        if (k.startsWith('@')) continue;
        for (const [i, item] of (v as unknown[]).entries())
          walk(item, `${pass}/${name}/${k}${(v as unknown[]).length > 1 ? `[${i + 1}]` : ''}`);
      }
    }
  }
  return out;
}

export function diffUnattend(a: string | undefined, b: string | undefined): UnattendChange[] {
  const sa = a === undefined ? new Map<string, string>() : unattendSettings(a);
  const sb = b === undefined ? new Map<string, string>() : unattendSettings(b);
  const out: UnattendChange[] = [];
  for (const [k, x] of sa) {
    const y = sb.get(k);
    if (y === undefined) out.push({ setting: k, change: 'removed', a: x });
    else if (x !== y) out.push({ setting: k, change: 'changed', a: x, b: y });
  }
  for (const [k, y] of sb) if (!sa.has(k)) out.push({ setting: k, change: 'added', b: y });
  return out;
}

/**
 * Extracts the files among `paths` that the image has, in one wimextract (each wimlib run reads the
 * image's metadata again); returns them by lower-cased image path.
 */
async function extractSome(
  wim: string,
  index: number,
  files: Map<string, WimFileEntry>,
  paths: readonly string[],
  dir: string,
): Promise<Map<string, Uint8Array>> {
  const present = paths
    .map((p) => files.get(p.toLowerCase()))
    .filter((f): f is WimFileEntry => f !== undefined && !f.isDir);
  const out = new Map<string, Uint8Array>();
  if (present.length === 0) return out;
  await wimExtract(
    wim,
    index,
    present.map((f) => f.path),
    dir,
    { noAcls: true },
  );
  for (const f of present) {
    out.set(
      f.path.toLowerCase(),
      new Uint8Array(await readFile(join(dir, f.path.slice(f.path.lastIndexOf('/') + 1)))),
    );
  }
  return out;
}

/** A hive of an image with its transaction logs replayed; errors name the image and the path. */
function openHive(files: Map<string, Uint8Array>, name: ImageHiveName, what: string): Hive | undefined {
  const [path = '', ...logPaths] = hiveFiles(name);
  const bytes = files.get(path.toLowerCase());
  if (bytes === undefined) return undefined;
  const logs = logPaths
    .map((l) => files.get(l.toLowerCase()))
    .filter((l): l is Uint8Array => l !== undefined && l.length > 0);
  try {
    return Hive.parse(bytes, { logs, replayLogs: true });
  } catch (e) {
    if (e instanceof AppError)
      throw new AppError(e.code, `${what} ${path} is not a usable hive: ${e.message}`, {
        hint: 'check the image',
        cause: e,
      });
    throw e;
  }
}

/** Compares image `refA` with image `refB` (FILE.wim[:INDEX] each). */
export async function diffImages(refA: string, refB: string): Promise<ImageDiff> {
  const ra = parseWimRef(refA);
  const rb = parseWimRef(refB);
  const ia = resolveImageIndex(await loadWimInfo(ra.path), ra);
  const ib = resolveImageIndex(await loadWimInfo(rb.path), rb);
  const [filesA, filesB] = await Promise.all([wimListFiles(ra.path, ia), wimListFiles(rb.path, ib)]);
  const files = diffFiles(filesA, filesB);
  const ma = byPath(filesA);
  const mb = byPath(filesB);
  const changed = (p: string): boolean => {
    const x = ma.get(p.toLowerCase());
    const y = mb.get(p.toLowerCase());
    return x !== undefined && y !== undefined && (x.sha1 !== y.sha1 || x.size !== y.size);
  };
  return withTempDir(async (dir) => {
    // Hives whose file or logs differ, SYSTEM always (for DriverDatabase), and unattend.xml when it differs.
    const hives = IMAGE_HIVES.filter((h) => h === 'SYSTEM' || hiveFiles(h).some(changed));
    const unattendDiffers =
      ma.get(UNATTEND_PATH.toLowerCase())?.sha1 !== mb.get(UNATTEND_PATH.toLowerCase())?.sha1;
    const wanted = [...hives.flatMap(hiveFiles), ...(unattendDiffers ? [UNATTEND_PATH] : [])];
    const xa = await extractSome(ra.path, ia, ma, wanted, join(dir, 'a'));
    const xb = await extractSome(rb.path, ib, mb, wanted, join(dir, 'b'));
    const registry: RegistryChange[] = [];
    let systemA: Hive | undefined;
    let systemB: Hive | undefined;
    for (const name of hives) {
      const ha = openHive(xa, name, refA);
      const hb = openHive(xb, name, refB);
      if (name === 'SYSTEM') {
        systemA = ha;
        systemB = hb;
      }
      if (ha !== undefined && hb !== undefined) registry.push(...diffHives(name, ha, hb));
    }
    const drivers = diffDrivers(filesA, filesB, systemA, systemB);
    const text = (b: Uint8Array | undefined): string | undefined =>
      b === undefined ? undefined : new TextDecoder().decode(b);
    const unattend = unattendDiffers
      ? diffUnattend(text(xa.get(UNATTEND_PATH.toLowerCase())), text(xb.get(UNATTEND_PATH.toLowerCase())))
      : [];
    return {
      a: { path: ra.path, index: ia },
      b: { path: rb.path, index: ib },
      files,
      registry,
      drivers,
      unattend,
    };
  }, 'winsmith-diff');
}

/** What diff-worker.ts posts: the diff, or its error's parts. */
export type DiffThreadAnswer =
  | { readonly diff: ImageDiff }
  | { readonly error: { readonly code: ErrorCode; readonly message: string; readonly hint: string | null } };

/** The worker's module beside this one, with the same extension (.ts from source, .js when built). */
const WORKER_URL = new URL(
  `./diff-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

/**
 * diffImages in a worker thread of its own, ended when `signal` aborts: the caller's thread stays
 * free while the hives are read and compared.
 */
export function diffImagesApart(refA: string, refB: string, signal?: AbortSignal): Promise<ImageDiff> {
  return new Promise<ImageDiff>((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: { refA, refB } });
    const onAbort = (): void => {
      void worker.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let answered = false;
    worker.once('message', (answer: DiffThreadAnswer) => {
      answered = true;
      if ('diff' in answer) resolve(answer.diff);
      else {
        const { code, message, hint } = answer.error;
        reject(new AppError(code, message, hint === null ? {} : { hint }));
      }
    });
    worker.once('error', (e: Error) => {
      answered = true;
      reject(new AppError('INTERNAL', `the diff thread failed: ${e.message}`, { cause: e }));
    });
    worker.once('exit', () => {
      signal?.removeEventListener('abort', onAbort);
      if (!answered) {
        reject(
          signal?.aborted === true
            ? new AppError('INTERRUPTED', 'the diff was stopped before it ended')
            : new AppError('INTERNAL', 'the diff thread ended without an answer'),
        );
      }
    });
  });
}
