// Customization recipes: a YAML file with a `customize:` list of steps (files, registry, drivers,
// unattend, firstboot, features, metadata), checked here against what each step accepts. Every
// error names FILE:LINE:COLUMN (src/config/yaml-input.ts). Host paths are read by the caller's
// HostPathReader: relative to the recipe file for a recipe, relative to the deployment share for a
// deployment profile's steps (src/deploy/profile.ts), which reads the same steps with these readers.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, YAMLMap, type Node } from 'yaml';
import { YamlInput, type YamlEntry } from '../../config/yaml-input.ts';
import { AppError } from '../../core/errors.ts';
import type { UnattendProfile } from '../../formats/unattend/index.ts';
import { regSetData, SETTABLE_TYPES } from '../registry.ts';
import { readUnattendProfile } from '../unattend.ts';
import { mapRegistryPath, type HivePath } from './hive-paths.ts';

export const STEP_KINDS = [
  'files',
  'registry',
  'drivers',
  'unattend',
  'firstboot',
  'features',
  'metadata',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** A path inside the image as the recipe wrote it ('\\' or '/'), kept with where it was written. */
export type FileAdd =
  | { readonly from: 'host'; readonly src: string; readonly dest: string; readonly where: string }
  | { readonly from: 'content'; readonly content: string; readonly dest: string; readonly where: string };

export interface FilesStep {
  readonly kind: 'files';
  readonly add: readonly FileAdd[];
  readonly remove: readonly { readonly pattern: string; readonly where: string }[];
  readonly rename: readonly { readonly from: string; readonly to: string; readonly where: string }[];
}

export interface RegistrySet {
  readonly path: HivePath;
  readonly key: string;
  readonly name: string;
  readonly type: number;
  readonly data: Uint8Array;
  readonly where: string;
}

export interface RegistryStep {
  readonly kind: 'registry';
  readonly set: readonly RegistrySet[];
  /** A key (recursive) when `name` is absent, else one value. */
  readonly delete: readonly {
    readonly path: HivePath;
    readonly key: string;
    readonly name?: string;
    readonly where: string;
  }[];
  /** Host .reg files. */
  readonly import: readonly { readonly file: string; readonly where: string }[];
}

export interface DriversStep {
  readonly kind: 'drivers';
  /** Host folders holding driver packages (searched for .inf files). */
  readonly folders: readonly { readonly dir: string; readonly where: string }[];
}

export interface UnattendStep {
  readonly kind: 'unattend';
  /** The profile, checked (src/image/unattend.ts). */
  readonly profile: UnattendProfile;
  /** A host unattend.xml merged under the profile. */
  readonly file?: string;
  readonly where: string;
}

export interface FirstbootScript {
  readonly shell: 'powershell' | 'cmd';
  /** Inline text, or the text of the host file `file`. */
  readonly text: string;
  readonly file?: string;
  readonly where: string;
}

export interface FirstbootStep {
  readonly kind: 'firstboot';
  readonly scripts: readonly FirstbootScript[];
}

export interface FeaturesStep {
  readonly kind: 'features';
  readonly names: readonly string[];
  readonly where: string;
}

export const METADATA_KEYS = {
  name: 'NAME',
  description: 'DESCRIPTION',
  displayName: 'DISPLAYNAME',
  displayDescription: 'DISPLAYDESCRIPTION',
  flags: 'FLAGS',
} as const;

export interface MetadataStep {
  readonly kind: 'metadata';
  /** WIM XML image property → value (NAME, DESCRIPTION, DISPLAYNAME, DISPLAYDESCRIPTION, FLAGS). */
  readonly properties: Readonly<Record<string, string>>;
}

export type RecipeStep =
  FilesStep | RegistryStep | DriversStep | UnattendStep | FirstbootStep | FeaturesStep | MetadataStep;

export interface Recipe {
  readonly file: string;
  readonly sha256: string;
  readonly text: string;
  readonly steps: readonly RecipeStep[];
}

/**
 * Reads a host path a step names (a file, or a folder of drivers) from its node, and says where it
 * is on the host; it throws the node's FILE:LINE:COLUMN error for a path it does not take.
 */
export type HostPathReader = (y: YamlInput, node: Node | null, what: string) => string;

/** The reader of a recipe's host paths: relative to the recipe's folder `base`. */
export function pathsRelativeTo(base: string): HostPathReader {
  return (y, node, what) => resolve(base, y.string(node, what));
}

/** How a list of steps is read: its host paths, and the kinds it takes. */
export interface StepReading<K extends StepKind> {
  readonly hostPath: HostPathReader;
  /** The kinds taken, in the order messages name them. */
  readonly kinds: readonly K[];
  /** Why each other kind is refused (a known kind not in `kinds`), and what to do instead. */
  readonly refused: Readonly<Record<Exclude<StepKind, K>, { readonly why: string; readonly hint: string }>>;
}

/** Windows feature names: letters, digits, dashes, dots, underscores. */
const FEATURE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkImagePath(y: YamlInput, node: Node | null, what: string): string {
  const p = y.string(node, what);
  if (p.trim() === '' || p.split(/[\\/]/).some((c) => c === '..')) {
    throw y.error(
      node,
      `${what} '${p}' must be a path inside the image without '..'`,
      "write it from the image root, e.g. 'Windows\\Setup\\x.txt'",
    );
  }
  return p;
}

function parseFiles(y: YamlInput, node: Node | null, hostPath: HostPathReader): FilesStep {
  const add: FileAdd[] = [];
  const remove: { pattern: string; where: string }[] = [];
  const rename: { from: string; to: string; where: string }[] = [];
  for (const e of y.mapOf(node, 'files', ['add', 'remove', 'rename'])) {
    for (const item of y.seq(e.value, `files.${e.key}`, e.key === 'remove')) {
      const where = y.where(item);
      if (e.key === 'remove') {
        remove.push({ pattern: checkImagePath(y, item, 'a path to remove'), where });
        continue;
      }
      if (e.key === 'rename') {
        const f = Object.fromEntries(y.mapOf(item, 'a rename', ['from', 'to']).map((x) => [x.key, x.value]));
        if (f['from'] === undefined || f['to'] === undefined)
          throw y.error(item, 'a rename needs from and to', "write { from: 'A', to: 'B' }");
        rename.push({
          from: checkImagePath(y, f['from'], 'from'),
          to: checkImagePath(y, f['to'], 'to'),
          where,
        });
        continue;
      }
      const f = Object.fromEntries(
        y.mapOf(item, 'a file to add', ['src', 'content', 'dest']).map((x) => [x.key, x.value]),
      );
      if (f['dest'] === undefined)
        throw y.error(item, 'a file to add needs dest (its path in the image)', "add dest: 'Windows\\…'");
      const dest = checkImagePath(y, f['dest'], 'dest');
      if ((f['src'] === undefined) === (f['content'] === undefined)) {
        throw y.error(
          item,
          'a file to add needs exactly one of src (a host file) and content (its text)',
          'give src or content',
        );
      }
      add.push(
        f['src'] !== undefined
          ? { from: 'host', src: hostPath(y, f['src'], 'src'), dest, where: y.where(f['src']) }
          : { from: 'content', content: y.string(f['content'] ?? null, 'content'), dest, where },
      );
    }
  }
  return { kind: 'files', add, remove, rename };
}

function registryPath(y: YamlInput, node: Node | null): { path: HivePath; key: string } {
  const key = y.string(node, 'key');
  try {
    return { path: mapRegistryPath(key), key };
  } catch (e) {
    if (e instanceof AppError) throw y.error(node, e.message, e.hint ?? '');
    throw e;
  }
}

function regData(y: YamlInput, node: Node | null): string[] {
  if (node === null) return [];
  const v = y.plain(node);
  if (Array.isArray(v)) return v.map((x) => String(x));
  return [String(y.scalar(node, 'data'))];
}

function parseRegistry(y: YamlInput, node: Node | null, hostPath: HostPathReader): RegistryStep {
  const set: RegistrySet[] = [];
  const del: { path: HivePath; key: string; name?: string; where: string }[] = [];
  const imports: { file: string; where: string }[] = [];
  for (const e of y.mapOf(node, 'registry', ['set', 'delete', 'import'])) {
    for (const item of y.seq(e.value, `registry.${e.key}`, e.key === 'import')) {
      const where = y.where(item);
      if (e.key === 'import') {
        imports.push({ file: hostPath(y, item, 'a .reg file'), where });
        continue;
      }
      const allowed = e.key === 'set' ? ['key', 'name', 'type', 'data'] : ['key', 'name'];
      const f = Object.fromEntries(
        y.mapOf(item, `a registry ${e.key}`, allowed).map((x) => [x.key, x.value]),
      );
      if (f['key'] === undefined)
        throw y.error(item, `a registry ${e.key} needs key`, "add key: 'HKLM\\SOFTWARE\\…'");
      const { path, key } = registryPath(y, f['key']);
      const name = f['name'] === undefined ? undefined : y.string(f['name'], 'name');
      if (e.key === 'delete') {
        del.push({ path, key, ...(name === undefined ? {} : { name }), where });
        continue;
      }
      const typeName = f['type'] === undefined ? 'REG_SZ' : y.string(f['type'], 'type').toUpperCase();
      if (!(SETTABLE_TYPES as readonly string[]).includes(typeName)) {
        throw y.error(
          f['type'] ?? item,
          `unknown value type '${typeName}' — expected one of ${SETTABLE_TYPES.join(', ')}`,
          'use a type name regedit shows',
        );
      }
      try {
        const { type, data } = regSetData(typeName, regData(y, f['data'] ?? null));
        set.push({ path, key, name: name ?? '', type, data, where });
      } catch (err) {
        if (err instanceof AppError)
          throw y.error(
            f['data'] ?? item,
            err.message.replace('--data', 'data'),
            err.hint?.replace('--data', 'data') ?? '',
          );
        throw err;
      }
    }
  }
  return { kind: 'registry', set, delete: del, import: imports };
}

function parseFirstboot(y: YamlInput, node: Node | null, hostPath: HostPathReader): FirstbootStep {
  const scripts: FirstbootScript[] = [];
  for (const item of y.seq(node, 'firstboot')) {
    const entries = y.mapOf(item, 'a firstboot script', ['powershell', 'cmd']);
    const [entry] = entries;
    if (entries.length !== 1 || entry === undefined) {
      throw y.error(
        item,
        'a firstboot script needs exactly one of powershell or cmd',
        "write { powershell: 'Write-Output ready' } or { cmd: 'echo ready' }",
      );
    }
    const shell = entry.key as 'powershell' | 'cmd';
    if (isMap(entry.value)) {
      // { powershell: { file: ./script.ps1 } }: a host script, read when the recipe is loaded.
      const [file] = y.mapOf(entry.value, `a ${shell} script`, ['file']);
      if (file === undefined)
        throw y.error(entry.value, `a ${shell} script needs file`, 'write { file: ./script.ps1 }');
      const path = hostPath(y, file.value, 'file');
      scripts.push({ shell, text: '', file: path, where: y.where(file.value) });
    } else {
      scripts.push({ shell, text: y.string(entry.value, `the ${shell} script`), where: y.where(item) });
    }
  }
  return { kind: 'firstboot', scripts };
}

function parseMetadata(y: YamlInput, node: Node | null): MetadataStep {
  const properties: Record<string, string> = {};
  for (const e of y.mapOf(node, 'metadata', Object.keys(METADATA_KEYS))) {
    properties[METADATA_KEYS[e.key as keyof typeof METADATA_KEYS]] = y.string(e.value, `metadata.${e.key}`);
  }
  return { kind: 'metadata', properties };
}

/** The one entry of a step: its kind and its value. */
function stepEntry(y: YamlInput, node: Node | null): YamlEntry {
  const entries = y.map(node, 'a step');
  const [entry] = entries;
  if (entries.length !== 1 || entry === undefined) {
    throw y.error(
      node,
      `a step must have exactly one key (its kind), found ${entries.length}`,
      `write each step as its own list item: - files: …`,
    );
  }
  return entry;
}

function parseUnattend(y: YamlInput, value: Node | null, hostPath: HostPathReader): UnattendStep {
  const entries = y.map(value, 'unattend');
  const fileEntry = entries.find((e) => e.key === 'file');
  let profileNode = value;
  if (fileEntry !== undefined && isMap(value)) {
    // A copy without `file`, its nodes (and so their positions) shared with the original.
    const rest = new YAMLMap(value.schema);
    rest.range = value.range ?? null;
    rest.items = value.items.filter((pair) => pair.key !== fileEntry.keyNode);
    profileNode = rest;
  }
  return {
    kind: 'unattend',
    profile: readUnattendProfile(y, profileNode),
    ...(fileEntry === undefined ? {} : { file: hostPath(y, fileEntry.value, 'unattend file') }),
    where: y.where(value),
  };
}

/** A features step: Windows feature names, one or a list. */
export function parseFeatures(y: YamlInput, value: Node | null): FeaturesStep {
  const names = y.seq(value, 'features', true).map((n) => {
    const name = y.string(n, 'a feature name');
    if (!FEATURE_NAME.test(name))
      throw y.error(
        n,
        `'${name}' is not a Windows feature name (letters, digits, - . _)`,
        'use the names Get-WindowsFeature lists, e.g. Web-Server',
      );
    return name;
  });
  return { kind: 'features', names, where: y.where(value) };
}

function parseStep(y: YamlInput, kind: StepKind, value: Node | null, hostPath: HostPathReader): RecipeStep {
  switch (kind) {
    case 'files':
      return parseFiles(y, value, hostPath);
    case 'registry':
      return parseRegistry(y, value, hostPath);
    case 'drivers':
      return {
        kind: 'drivers',
        folders: y
          .seq(value, 'drivers', true)
          .map((n) => ({ dir: hostPath(y, n, 'a driver folder'), where: y.where(n) })),
      };
    case 'unattend':
      return parseUnattend(y, value, hostPath);
    case 'firstboot':
      return parseFirstboot(y, value, hostPath);
    case 'features':
      return parseFeatures(y, value);
    case 'metadata':
      return parseMetadata(y, value);
  }
}

/** The steps of a `customize:` list, each of a kind `reading` takes. */
export function readSteps<K extends StepKind>(
  y: YamlInput,
  node: Node | null,
  reading: StepReading<K>,
): Extract<RecipeStep, { kind: K }>[] {
  const taken: readonly StepKind[] = reading.kinds;
  return y.seq(node, 'customize').map((item) => {
    const { key, keyNode, value } = stepEntry(y, item);
    const kind = STEP_KINDS.find((k) => k === key);
    if (kind === undefined) {
      throw y.error(
        keyNode,
        `unknown step '${key}' — expected one of ${reading.kinds.join(', ')}`,
        `check the spelling of '${key}'`,
      );
    }
    if (!taken.includes(kind)) {
      const refusal = reading.refused[kind as Exclude<StepKind, K>];
      throw y.error(keyNode, refusal.why, refusal.hint);
    }
    return parseStep(y, kind, value, reading.hostPath) as Extract<RecipeStep, { kind: K }>;
  });
}

/** Parses and checks recipe text; host paths are resolved against `baseDir`. */
export function parseRecipe(text: string, file: string, baseDir: string): Recipe {
  const y = YamlInput.parse(text, file);
  const top = y.mapOf(y.root, 'the recipe', ['customize']);
  const list = top.find((e) => e.key === 'customize');
  if (list === undefined)
    throw y.error(
      y.root,
      'the recipe has no customize: list',
      'start the file with customize: and a list of steps',
    );
  const steps = readSteps(y, list.value, {
    hostPath: pathsRelativeTo(baseDir),
    kinds: STEP_KINDS,
    refused: {},
  });
  return { file, text, sha256: createHash('sha256').update(text).digest('hex'), steps };
}

/** A host file or folder a step names, and where the step names it. */
export interface StepPath {
  readonly path: string;
  readonly kind: 'file' | 'directory';
  readonly where: string;
}

/** Every host file and folder `steps` name, in step order. */
export function stepPaths(steps: readonly RecipeStep[]): StepPath[] {
  const file = (path: string, where: string): StepPath => ({ path, kind: 'file', where });
  return steps.flatMap((step): StepPath[] => {
    switch (step.kind) {
      case 'files':
        return step.add.flatMap((a) => (a.from === 'host' ? [file(a.src, a.where)] : []));
      case 'registry':
        return step.import.map((i) => file(i.file, i.where));
      case 'drivers':
        return step.folders.map((f) => ({ path: f.dir, kind: 'directory', where: f.where }));
      case 'unattend':
        return step.file === undefined ? [] : [file(step.file, step.where)];
      case 'firstboot':
        return step.scripts.flatMap((s) => (s.file === undefined ? [] : [file(s.file, s.where)]));
      case 'features':
      case 'metadata':
        return [];
    }
  });
}

/**
 * The steps with every host file and folder they name checked by `requirePath` (which throws for
 * one that is missing or of the wrong kind), and the text of the first-boot scripts given as files.
 */
export async function loadStepFiles(
  steps: readonly RecipeStep[],
  requirePath: (p: StepPath) => Promise<void>,
): Promise<RecipeStep[]> {
  for (const p of stepPaths(steps)) await requirePath(p);
  const loaded: RecipeStep[] = [];
  for (const step of steps) {
    if (step.kind !== 'firstboot') {
      loaded.push(step);
      continue;
    }
    const scripts: FirstbootScript[] = [];
    for (const s of step.scripts)
      scripts.push(s.file === undefined ? s : { ...s, text: await readFile(s.file, 'utf8') });
    loaded.push({ kind: 'firstboot', scripts });
  }
  return loaded;
}

/** A check of the host paths of steps: each must exist and be of its kind; `hint` says where they come from. */
export function hostPathCheck(hint: string): (p: StepPath) => Promise<void> {
  return async ({ path, where, kind }) => {
    const s = await stat(path).catch(() => undefined);
    const ok = s !== undefined && (kind === 'file' ? s.isFile() : s.isDirectory());
    if (!ok) {
      throw new AppError(
        'FILE_NOT_FOUND',
        `${where}: ${kind} ${path} ${s === undefined ? 'does not exist' : `is not a ${kind}`}`,
        { hint },
      );
    }
  };
}

const requireHostPath = hostPathCheck('host paths in a recipe are relative to the recipe file');

/** Reads a recipe file and checks every host file and folder it names exists. */
export async function loadRecipe(path: string): Promise<Recipe> {
  await requireHostPath({ path: resolve(path), where: path, kind: 'file' });
  const text = await readFile(path, 'utf8');
  const recipe = parseRecipe(text, path, dirname(resolve(path)));
  return { ...recipe, steps: await loadStepFiles(recipe.steps, requireHostPath) };
}
