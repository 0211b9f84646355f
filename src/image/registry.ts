// Registry hive files on disk: open one with the transaction logs beside it, export it as .reg text
// or JSON, apply a .reg file, read, set and delete single keys and values, and write the hive back
// atomically. The hive format is src/formats/regf; the .reg text format is its reg-text.ts.

import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AppError, isAppError } from '../core/errors.ts';
import { ignoreProgress, type ProgressListener } from '../core/progress.ts';
import { Hive, REG_TYPES, encodeRegData, regTypeName, type HiveKey } from '../formats/regf/index.ts';
import { hexToBytes, regTypeNumber } from '../formats/regf/reg-json.ts';
import {
  parseRegText,
  type RegText,
  type RegTextPathOptions,
  type RegTextSection,
} from '../formats/regf/reg-text.ts';
import { writeOutputFile } from '../io/output.ts';
import { requireFile } from '../io/paths.ts';

export interface OpenHiveFileOptions {
  /** Replay the transaction logs beside a dirty hive instead of refusing it. */
  readonly replayLogs?: boolean;
}

/** The suffixes of a hive's transaction logs: the old single log, then the two new-style ones. */
const LOG_SUFFIXES = ['.LOG', '.LOG1', '.LOG2'] as const;

/** The transaction log files beside `path` (HIVE.LOG, .LOG1, .LOG2; any letter case), in that order. */
export async function findHiveLogs(path: string): Promise<string[]> {
  const dir = dirname(path);
  const names = await readdir(dir).catch(() => [] as string[]);
  const base = basename(path).toUpperCase();
  const found: string[] = [];
  for (const suffix of LOG_SUFFIXES) {
    const name = names.find((n) => n.toUpperCase() === `${base}${suffix}`);
    if (name !== undefined) found.push(join(dir, name));
  }
  return found;
}

async function readBytes(path: string): Promise<Uint8Array> {
  await requireFile(path);
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new AppError('IO_ERROR', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Reads a hive file, with its logs when it is dirty; every error names the file. */
export async function openHiveFile(path: string, options: OpenHiveFileOptions = {}): Promise<Hive> {
  const bytes = await readBytes(path);
  const logs = await Promise.all((await findHiveLogs(path)).map(readBytes));
  try {
    return Hive.parse(bytes, { logs, replayLogs: options.replayLogs === true });
  } catch (e) {
    if (!isAppError(e)) throw e;
    const what =
      e.code === 'HIVE_DIRTY'
        ? `${path}: ${e.message}`
        : `${path} is not a usable registry hive: ${e.message}`;
    throw new AppError(e.code, what, {
      hint: e.hint ?? 'check that the file is a registry hive (regf)',
      cause: e,
    });
  }
}

/**
 * Writes the hive to `path` whole or not at all, replacing what is there when `overwrite`; a
 * replaced file keeps its permission bits.
 */
export async function writeHiveFile(
  path: string,
  hive: Hive,
  options: { overwrite: boolean },
): Promise<void> {
  const bytes = hive.serialize();
  const mode = options.overwrite
    ? await stat(path).then(
        (s) => s.mode & 0o7777,
        () => undefined,
      )
    : undefined;
  await writeOutputFile(
    path,
    async (tmp) => {
      await writeFile(tmp, bytes);
      if (mode !== undefined) await chmod(tmp, mode);
    },
    { overwrite: options.overwrite },
  );
}

const CURRENT_CONTROL_SET = 'CURRENTCONTROLSET';

/**
 * The path with a first component "CurrentControlSet" replaced by the control set it stands for.
 * Windows makes CurrentControlSet at boot, as a link to ControlSet00N with N from the DWORD
 * \Select\Current of the SYSTEM hive; an offline SYSTEM hive has no such key, but .reg files
 * exported from a running system name it. Paths in other hives are returned as they are.
 */
export function resolveKeyPath(hive: Hive, path: string): string {
  const parts = path.split('\\').filter((p) => p !== '');
  const [first, ...rest] = parts;
  if (first?.toUpperCase() !== CURRENT_CONTROL_SET || hive.root.subkey(first) !== undefined) return path;
  const current = hive.getKey('\\Select')?.value('Current');
  if (current?.type !== REG_TYPES.REG_DWORD || current.data.length !== 4) return path;
  const n = new DataView(current.data.buffer, current.data.byteOffset, 4).getUint32(0, true);
  if (n < 1 || n > 999) return path;
  return ['', `ControlSet${n.toString().padStart(3, '0')}`, ...rest].join('\\');
}

/** A key by its root-relative path (CurrentControlSet resolved), or NOT_FOUND naming it. */
export function requireKey(hive: Hive, path: string, hivePath: string): HiveKey {
  const key = hive.getKey(resolveKeyPath(hive, path));
  if (key === undefined) {
    throw new AppError('NOT_FOUND', `key ${path} does not exist in ${hivePath}`, {
      hint: `list the keys with 'winsmith reg get ${hivePath} \\'`,
    });
  }
  return key;
}

/** The key and every key below it as .reg sections, depth first in hive order. */
export function regTextOfKey(key: HiveKey): RegText {
  const sections: RegTextSection[] = [];
  const visit = (k: HiveKey): void => {
    sections.push({
      kind: 'key',
      path: k.path,
      values: k.values().map((v) => ({ kind: 'set', name: v.name, type: v.type, data: v.data })),
    });
    for (const sub of k.subkeys()) visit(sub);
  };
  visit(key);
  return { sections };
}

export interface RegImportSummary {
  keysCreated: number;
  keysDeleted: number;
  valuesSet: number;
  valuesDeleted: number;
}

/** Sections applied between two progress events. */
const PROGRESS_EVERY = 500;

/**
 * Applies the sections in order: [key] creates the key and sets or deletes its values, [-key]
 * deletes. A path under CurrentControlSet goes to the control set it stands for (resolveKeyPath).
 */
export function applyRegText(
  hive: Hive,
  reg: RegText,
  progress: ProgressListener = ignoreProgress,
): RegImportSummary {
  const summary: RegImportSummary = { keysCreated: 0, keysDeleted: 0, valuesSet: 0, valuesDeleted: 0 };
  const total = reg.sections.length;
  for (const [index, section] of reg.sections.entries()) {
    if (index % PROGRESS_EVERY === 0) progress({ phase: 'Applying keys', done: index, total, unit: 'items' });
    const path = resolveKeyPath(hive, section.path);
    if (section.kind === 'delete-key') {
      if (hive.deleteKey(path)) summary.keysDeleted++;
      continue;
    }
    if (hive.getKey(path) === undefined) summary.keysCreated++;
    const key = hive.ensureKey(path);
    for (const value of section.values) {
      if (value.kind === 'delete') {
        if (key.deleteValue(value.name)) summary.valuesDeleted++;
      } else {
        key.setValue(value.name, value.type, value.data);
        summary.valuesSet++;
      }
    }
  }
  progress({ phase: 'Applying keys', done: total, total, unit: 'items' });
  return summary;
}

/** Reads and parses a .reg file; a syntax error names the file, line and column. */
export async function readRegFile(path: string, options: RegTextPathOptions = {}): Promise<RegText> {
  const bytes = await readBytes(path);
  try {
    return parseRegText(bytes, options);
  } catch (e) {
    if (!isAppError(e)) throw e;
    throw new AppError(e.code, `${path}: ${e.message}`, {
      hint: e.hint ?? 'fix the line named; .reg files follow the format regedit writes',
      cause: e,
    });
  }
}

/** The value types `reg set` accepts, by name. */
export const SETTABLE_TYPES = [
  'REG_SZ',
  'REG_EXPAND_SZ',
  'REG_MULTI_SZ',
  'REG_DWORD',
  'REG_QWORD',
  'REG_BINARY',
  'REG_NONE',
] as const;

function badData(type: string, expected: string, found: string): AppError {
  return new AppError('INVALID_ARGUMENT', `--data for ${type} must be ${expected}, found '${found}'`, {
    hint: `give --data as ${expected}`,
  });
}

function integer(type: string, text: string, max: bigint): bigint {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? BigInt(t) : /^0x[0-9a-f]+$/i.test(t) ? BigInt(t) : undefined;
  const bits = max === 0xffff_ffffn ? 32 : 64;
  if (n === undefined || n > max)
    throw badData(type, `an integer in [0, 2^${bits}), decimal or 0x hex`, text);
  return n;
}

function one(type: string, data: readonly string[]): string {
  const [first] = data;
  if (data.length !== 1 || first === undefined) {
    throw new AppError('USAGE', `${type} takes exactly one --data, found ${data.length}`, {
      hint: 'repeat --data only for REG_MULTI_SZ',
    });
  }
  return first;
}

function multiStrings(data: readonly string[]): string[] {
  const [first] = data;
  if (data.length === 1 && first !== undefined && first.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(first);
    } catch {
      throw badData('REG_MULTI_SZ', 'a JSON array of strings or repeated --data', first);
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
      throw badData('REG_MULTI_SZ', 'a JSON array of strings or repeated --data', first);
    }
    return parsed;
  }
  return [...data];
}

/** The type number and bytes `reg set --type T --data D…` stands for. */
export function regSetData(typeName: string, data: readonly string[]): { type: number; data: Uint8Array } {
  const name = typeName.toUpperCase();
  if (!(SETTABLE_TYPES as readonly string[]).includes(name)) {
    throw new AppError('INVALID_ARGUMENT', `unknown value type '${typeName}'`, {
      hint: `use one of ${SETTABLE_TYPES.join(', ')}`,
    });
  }
  const type = regTypeNumber(name) ?? REG_TYPES.REG_NONE;
  switch (type) {
    case REG_TYPES.REG_SZ:
    case REG_TYPES.REG_EXPAND_SZ:
      return { type, data: encodeRegData(type, one(name, data)) };
    case REG_TYPES.REG_MULTI_SZ: {
      const list = multiStrings(data);
      if (list.some((s) => s.includes('\0')))
        throw badData(name, 'strings without NUL characters', list.join(','));
      return { type, data: encodeRegData(type, list) };
    }
    case REG_TYPES.REG_DWORD:
      return { type, data: encodeRegData(type, integer(name, one(name, data), 0xffff_ffffn)) };
    case REG_TYPES.REG_QWORD:
      return { type, data: encodeRegData(type, integer(name, one(name, data), 0xffff_ffff_ffff_ffffn)) };
    default: {
      const text = data.length === 0 && type === REG_TYPES.REG_NONE ? '' : one(name, data);
      try {
        return { type, data: hexToBytes(text) };
      } catch {
        throw badData(regTypeName(type), "hex bytes such as '0a1b2c' or '0a,1b,2c'", text);
      }
    }
  }
}
