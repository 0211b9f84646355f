// Build recipes: how a reference image is made from a Windows Server ISO (or serviced from a stored
// image) in a VM. A YAML file with the sections `source` (what to install), `vm` (the machine it is
// installed on), `provision` (steps run inside the running Windows, in order), `generalize`
// (Sysprep), `customize` (offline steps on the captured image, the same steps as a customization
// recipe) and `output` (where the result goes). Every error names FILE:LINE:COLUMN. Pure: the
// caller reads the file; host paths are resolved against the recipe's folder and checked by the
// caller (loadBuildRecipe).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, type Node } from 'yaml';
import { YamlInput } from '../config/yaml-input.ts';
import { AppError } from '../core/errors.ts';
import { parseImageRef, type ImageRef } from '../core/names.ts';
import { GiB, parseSize } from '../image/disk/size.ts';
import {
  hostPathCheck,
  loadStepFiles,
  parseFeatures,
  pathsRelativeTo,
  readSteps,
  stepPaths,
  STEP_KINDS,
  type HostPathReader,
  type RecipeStep,
  type StepPath,
} from '../image/recipe/recipe.ts';

export const RECIPE_SECTIONS = ['source', 'vm', 'provision', 'generalize', 'customize', 'output'] as const;

/** What is installed: an ISO (pinned by its SHA-256) or, to service it, an image of the repository. */
export type BuildSource =
  | {
      readonly kind: 'iso';
      readonly iso: string;
      readonly sha256: string;
      /** The edition: its name (EditionID or image name) or its 1-based index in install.wim. */
      readonly edition: string | number;
      /** 'kms' (the edition's public KMS client key) or a product key. */
      readonly productKey: string;
      readonly locale: string;
      readonly timeZone: string;
    }
  | {
      readonly kind: 'image';
      readonly image: ImageRef;
      readonly edition: string | number;
      readonly locale: string;
      readonly timeZone: string;
    };

export type BuildFirmware = 'uefi' | 'bios';

export interface BuildVm {
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
  readonly firmware: BuildFirmware;
  /** A TPM 2.0 (swtpm). */
  readonly tpm: boolean;
  /** Other CD images attached (the virtio-win drivers ISO, say), host paths. */
  readonly media: readonly string[];
  /** The most each phase may take, in seconds. */
  readonly timeouts: Readonly<Record<BuildPhase, number>>;
}

/** The phases of a build, in order; each has its own timeout and is where a build resumes. */
export const BUILD_PHASES = ['install', 'provision', 'generalize'] as const;
export type BuildPhase = (typeof BUILD_PHASES)[number];

export type ProvisionStep =
  | {
      readonly kind: 'powershell';
      /** Inline text, or the text of the host file `file` once loaded. */
      readonly text: string;
      readonly file?: string;
      readonly where: string;
    }
  | {
      readonly kind: 'files';
      readonly copies: readonly { readonly src: string; readonly dest: string; readonly where: string }[];
      readonly where: string;
    }
  | { readonly kind: 'features'; readonly names: readonly string[]; readonly where: string }
  | { readonly kind: 'packages'; readonly files: readonly string[]; readonly where: string }
  | { readonly kind: 'windowsUpdate'; readonly maxRounds: number; readonly where: string }
  | { readonly kind: 'restart'; readonly where: string };

export const PROVISION_KINDS = [
  'powershell',
  'files',
  'features',
  'packages',
  'windowsUpdate',
  'restart',
] as const;

export interface BuildGeneralize {
  /** sysprep /mode:vm: no hardware re-detection, for images deployed only to VMs of this kind. */
  readonly vmMode: boolean;
  /** The provisioning account's profile becomes the default profile (CopyProfile). */
  readonly copyProfile: boolean;
  /** A host unattend.xml the deployed machines' first boot reads (Windows\Panther\unattend.xml). */
  readonly unattend: string | null;
}

export interface BuildOutput {
  readonly tag: ImageRef | null;
  /** A disk image file of the generalized disk (qcow2, or raw by its extension), a host path. */
  readonly disk: string | null;
}

export interface BuildRecipe {
  readonly file: string;
  readonly text: string;
  readonly sha256: string;
  readonly source: BuildSource;
  readonly vm: BuildVm;
  readonly provision: readonly ProvisionStep[];
  readonly generalize: BuildGeneralize;
  readonly customize: readonly RecipeStep[];
  readonly output: BuildOutput;
}

/** Microsoft's minimums for Windows Server (2 GiB of memory with the Desktop Experience, 32 GiB of disk). */
export const MIN_MEMORY_BYTES = 2 * GiB;
export const MIN_DISK_BYTES = 32 * GiB;
const MAX_CPUS = 64;
const MAX_UPDATE_ROUNDS = 20;

/** Timeouts when the recipe gives none: TCG-free installs and updates on ordinary hosts. */
export const DEFAULT_TIMEOUTS: Readonly<Record<BuildPhase, number>> = {
  install: 2 * 3600,
  provision: 6 * 3600,
  generalize: 3600,
};

const PRODUCT_KEY = /^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/i;
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const DURATION = /^(\d+)\s*(s|m|h)$/;
const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** A path inside the Windows of the VM: a drive letter, then a folder, no '..'. */
function checkWindowsPath(y: YamlInput, node: Node | null, what: string): string {
  const p = y.string(node, what);
  if (!/^[A-Za-z]:\\/.test(p) || p.split(/[\\/]/).some((c) => c === '..')) {
    throw y.error(
      node,
      `${what} '${p}' must be an absolute Windows path without '..'`,
      "write e.g. 'C:\\Tools'",
    );
  }
  return p;
}

function size(y: YamlInput, node: Node | null, what: string, min: number): number {
  const text = String(y.scalar(node, what));
  let bytes: number;
  try {
    bytes = parseSize(text, what);
  } catch (e) {
    if (e instanceof AppError) throw y.error(node, e.message, e.hint ?? '');
    throw e;
  }
  if (bytes < min) {
    throw y.error(
      node,
      `${what} must be at least ${min / GiB} GiB (Windows Server's minimum), found ${text}`,
      `give ${what}: ${min / GiB}G or more`,
    );
  }
  return bytes;
}

function duration(y: YamlInput, node: Node | null, what: string): number {
  const text = String(y.scalar(node, what));
  const m = DURATION.exec(text.trim());
  const unit = m === null ? undefined : DURATION_UNITS[m[2] ?? ''];
  const seconds = m === null || unit === undefined ? 0 : Number(m[1]) * unit;
  if (seconds <= 0) {
    throw y.error(
      node,
      `${what} must be a duration such as 90m or 2h, found '${text}'`,
      'write a number with s, m or h',
    );
  }
  return seconds;
}

function wholeNumber(y: YamlInput, node: Node | null, what: string, min: number, max: number): number {
  const v = y.scalar(node, what);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw y.error(
      node,
      `${what} must be a whole number from ${min} to ${max}, found ${JSON.stringify(String(v))}`,
      `write ${what}: followed by a number`,
    );
  }
  return v;
}

function fields(
  y: YamlInput,
  node: Node | null,
  what: string,
  allowed: readonly string[],
): Map<string, Node | null> {
  return new Map(y.mapOf(node, what, allowed).map((e) => [e.key, e.value]));
}

function edition(y: YamlInput, node: Node | null): string | number {
  const v = y.scalar(node, 'source.edition');
  if (typeof v === 'number') return wholeNumber(y, node, 'source.edition', 1, 1000);
  const name = String(v).trim();
  if (name === '')
    throw y.error(
      node,
      'source.edition must not be empty',
      'give an edition name (ServerDatacenter) or index',
    );
  return name;
}

function imageRef(y: YamlInput, node: Node | null, what: string): ImageRef {
  const text = y.string(node, what);
  try {
    return parseImageRef(text);
  } catch (e) {
    if (e instanceof AppError) throw y.error(node, e.message, e.hint ?? 'write NAME:TAG');
    throw e;
  }
}

function readSource(y: YamlInput, node: Node | null, hostPath: HostPathReader): BuildSource {
  const f = fields(y, node, 'source', [
    'iso',
    'sha256',
    'image',
    'edition',
    'productKey',
    'locale',
    'timeZone',
  ]);
  const iso = f.get('iso');
  const image = f.get('image');
  if ((iso === undefined) === (image === undefined)) {
    throw y.error(
      node,
      'source needs exactly one of iso (a Windows Server ISO) and image (a repository image to service)',
      'give iso: ./server.iso with its sha256:, or image: NAME:TAG',
    );
  }
  const editionNode = f.get('edition');
  if (editionNode === undefined)
    throw y.error(node, 'source needs edition (its name or index)', 'add edition: ServerDatacenter');
  const locale = f.has('locale') ? y.string(f.get('locale') ?? null, 'source.locale') : 'en-US';
  if (!LANGUAGE_TAG.test(locale))
    throw y.error(
      f.get('locale'),
      `source.locale must be a language tag such as en-US, found '${locale}'`,
      'write e.g. fr-FR',
    );
  const timeZone = f.has('timeZone') ? y.string(f.get('timeZone') ?? null, 'source.timeZone') : 'UTC';
  const common = { edition: edition(y, editionNode), locale, timeZone };
  if (image !== undefined) {
    for (const key of ['sha256', 'productKey'] as const) {
      if (f.has(key))
        throw y.error(
          f.get(key),
          `source.${key} is for an ISO; a repository image is pinned by its tag`,
          `remove ${key}:`,
        );
    }
    return { kind: 'image', image: imageRef(y, image, 'source.image'), ...common };
  }
  const sha = f.get('sha256');
  if (sha === undefined)
    throw y.error(
      node,
      'source.iso needs its sha256 (the build refuses an ISO it cannot pin)',
      'add sha256: (sha256sum FILE.iso)',
    );
  const sha256 = y.string(sha, 'source.sha256').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw y.error(
      sha,
      `source.sha256 must be 64 hexadecimal digits, found '${sha256}'`,
      'copy it from sha256sum',
    );
  const productKey = f.has('productKey') ? y.string(f.get('productKey') ?? null, 'source.productKey') : 'kms';
  if (productKey.toLowerCase() !== 'kms' && !PRODUCT_KEY.test(productKey))
    throw y.error(
      f.get('productKey'),
      `source.productKey must be kms or a key XXXXX-XXXXX-XXXXX-XXXXX-XXXXX, found '${productKey}'`,
      'write productKey: kms for the edition’s public KMS client key',
    );
  return { kind: 'iso', iso: hostPath(y, iso ?? null, 'source.iso'), sha256, productKey, ...common };
}

function readVm(y: YamlInput, node: Node | null, hostPath: HostPathReader): BuildVm {
  if (node === null) return { ...DEFAULT_VM, timeouts: DEFAULT_TIMEOUTS };
  const f = fields(y, node, 'vm', ['cpus', 'memory', 'disk', 'firmware', 'tpm', 'media', 'timeouts']);
  const get = (k: string): Node | null => f.get(k) ?? null;
  const firmware = f.has('firmware') ? y.string(get('firmware'), 'vm.firmware') : DEFAULT_VM.firmware;
  if (firmware !== 'uefi' && firmware !== 'bios')
    throw y.error(
      get('firmware'),
      `vm.firmware must be uefi or bios, found '${firmware}'`,
      'write firmware: uefi',
    );
  const timeouts = { ...DEFAULT_TIMEOUTS };
  if (f.has('timeouts')) {
    for (const e of y.mapOf(get('timeouts'), 'vm.timeouts', BUILD_PHASES))
      timeouts[e.key as BuildPhase] = duration(y, e.value, `vm.timeouts.${e.key}`);
  }
  return {
    cpus: f.has('cpus') ? wholeNumber(y, get('cpus'), 'vm.cpus', 1, MAX_CPUS) : DEFAULT_VM.cpus,
    memoryBytes: f.has('memory')
      ? size(y, get('memory'), 'vm.memory', MIN_MEMORY_BYTES)
      : DEFAULT_VM.memoryBytes,
    diskBytes: f.has('disk') ? size(y, get('disk'), 'vm.disk', MIN_DISK_BYTES) : DEFAULT_VM.diskBytes,
    firmware,
    tpm: f.has('tpm') ? y.boolean(get('tpm'), 'vm.tpm') : false,
    media: f.has('media')
      ? y.seq(get('media'), 'vm.media', true).map((n) => hostPath(y, n, 'an ISO in vm.media'))
      : [],
    timeouts,
  };
}

export const DEFAULT_VM: Omit<BuildVm, 'timeouts'> = {
  cpus: 2,
  memoryBytes: 4 * GiB,
  diskBytes: 64 * GiB,
  firmware: 'uefi',
  tpm: false,
  media: [],
};

function readProvisionStep(y: YamlInput, item: Node | null, hostPath: HostPathReader): ProvisionStep {
  const entries = y.map(item, 'a provision step');
  const [entry] = entries;
  if (entries.length !== 1 || entry === undefined) {
    throw y.error(
      item,
      `a provision step must have exactly one key (its kind), found ${entries.length}`,
      'write each step as its own list item: - powershell: …',
    );
  }
  const { key, keyNode, value } = entry;
  const where = y.where(keyNode);
  switch (key) {
    case 'powershell': {
      if (isMap(value)) {
        const [file] = y.mapOf(value, 'a powershell step', ['file']);
        if (file === undefined)
          throw y.error(value, 'a powershell step needs file', 'write { file: ./script.ps1 }');
        return { kind: 'powershell', text: '', file: hostPath(y, file.value, 'file'), where };
      }
      const text = y.string(value, 'the powershell script');
      if (text.trim() === '')
        throw y.error(
          value,
          'the powershell script is empty',
          'give the script text or { file: ./script.ps1 }',
        );
      return { kind: 'powershell', text, where };
    }
    case 'files':
      return {
        kind: 'files',
        copies: y.seq(value, 'files').map((n) => {
          const f = fields(y, n, 'a file to copy', ['src', 'dest']);
          if (!f.has('src') || !f.has('dest'))
            throw y.error(
              n,
              'a file to copy needs src (a host file) and dest (a folder in Windows)',
              "write { src: ./tool.exe, dest: 'C:\\Tools' }",
            );
          return {
            src: hostPath(y, f.get('src') ?? null, 'src'),
            dest: checkWindowsPath(y, f.get('dest') ?? null, 'dest'),
            where: y.where(n),
          };
        }),
        where,
      };
    case 'features':
      return parseFeatures(y, value);
    case 'packages':
      return {
        kind: 'packages',
        files: y.seq(value, 'packages', true).map((n) => {
          const path = hostPath(y, n, 'a package');
          if (!/\.(msu|cab)$/i.test(path))
            throw y.error(
              n,
              `a package must be an .msu or .cab file, found '${y.string(n, 'a package')}'`,
              'give the update files Windows installs with DISM',
            );
          return path;
        }),
        where,
      };
    case 'windowsUpdate': {
      if (value !== null && !isMap(value)) {
        if (y.boolean(value, 'windowsUpdate')) return { kind: 'windowsUpdate', maxRounds: 10, where };
        throw y.error(value, 'windowsUpdate: false is not a step', 'remove the step');
      }
      const f = fields(y, value, 'windowsUpdate', ['maxRounds']);
      return {
        kind: 'windowsUpdate',
        maxRounds: f.has('maxRounds')
          ? wholeNumber(y, f.get('maxRounds') ?? null, 'windowsUpdate.maxRounds', 1, MAX_UPDATE_ROUNDS)
          : 10,
        where,
      };
    }
    case 'restart':
      if (value !== null && !(y.scalar(value, 'restart') === true))
        throw y.error(value, 'restart takes no value', 'write - restart: true');
      return { kind: 'restart', where };
    default:
      throw y.error(
        keyNode,
        `unknown provision step '${key}' — expected one of ${PROVISION_KINDS.join(', ')}`,
        `check the spelling of '${key}'`,
      );
  }
}

function readGeneralize(y: YamlInput, node: Node | null, hostPath: HostPathReader): BuildGeneralize {
  if (node === null) return { vmMode: false, copyProfile: false, unattend: null };
  const f = fields(y, node, 'generalize', ['vmMode', 'copyProfile', 'unattend']);
  return {
    vmMode: f.has('vmMode') ? y.boolean(f.get('vmMode') ?? null, 'generalize.vmMode') : false,
    copyProfile: f.has('copyProfile')
      ? y.boolean(f.get('copyProfile') ?? null, 'generalize.copyProfile')
      : false,
    unattend: f.has('unattend') ? hostPath(y, f.get('unattend') ?? null, 'generalize.unattend') : null,
  };
}

function readOutput(y: YamlInput, node: Node | null, hostPath: HostPathReader): BuildOutput {
  const f = fields(y, node, 'output', ['tag', 'disk']);
  const tag = f.has('tag') ? imageRef(y, f.get('tag') ?? null, 'output.tag') : null;
  const disk = f.has('disk') ? hostPath(y, f.get('disk') ?? null, 'output.disk') : null;
  if (tag === null && disk === null)
    throw y.error(
      node,
      'output needs tag (NAME:TAG in a repository) or disk (a disk image file), or both',
      'add tag: lab/ws2022:v1',
    );
  if (disk !== null && !/\.(qcow2|raw|img)$/i.test(disk))
    throw y.error(
      f.get('disk'),
      `output.disk must end in .qcow2, .raw or .img, found '${disk}'`,
      'name the file after its format',
    );
  return { tag, disk };
}

/** Parses and checks a build recipe's text; host paths are resolved against `baseDir`. */
export function parseBuildRecipe(text: string, file: string, baseDir: string): BuildRecipe {
  const y = YamlInput.parse(text, file);
  const top = fields(y, y.root, 'the build recipe', RECIPE_SECTIONS);
  const hostPath = pathsRelativeTo(baseDir);
  for (const required of ['source', 'output'] as const) {
    if (!top.has(required))
      throw y.error(
        y.root,
        `the build recipe has no ${required}: section`,
        `add ${required}: (see docs/build.md)`,
      );
  }
  return {
    file,
    text,
    sha256: createHash('sha256').update(text).digest('hex'),
    source: readSource(y, top.get('source') ?? null, hostPath),
    vm: readVm(y, top.get('vm') ?? null, hostPath),
    provision: top.has('provision')
      ? y.seq(top.get('provision') ?? null, 'provision').map((n) => readProvisionStep(y, n, hostPath))
      : [],
    generalize: readGeneralize(y, top.get('generalize') ?? null, hostPath),
    customize: top.has('customize')
      ? readSteps(y, top.get('customize') ?? null, { hostPath, kinds: STEP_KINDS, refused: {} })
      : [],
    output: readOutput(y, top.get('output') ?? null, hostPath),
  };
}

/** The host files and folders a build recipe reads, each with where it is named. */
function recipeInputs(recipe: BuildRecipe): { path: string; kind: 'file' | 'directory'; where: string }[] {
  const file = (path: string, where: string): { path: string; kind: 'file'; where: string } => ({
    path,
    kind: 'file',
    where,
  });
  const out = recipe.source.kind === 'iso' ? [file(recipe.source.iso, `${recipe.file}: source.iso`)] : [];
  out.push(...recipe.vm.media.map((m) => file(m, `${recipe.file}: vm.media`)));
  for (const step of recipe.provision) {
    if (step.kind === 'powershell' && step.file !== undefined) out.push(file(step.file, step.where));
    if (step.kind === 'files') out.push(...step.copies.map((c) => file(c.src, c.where)));
    if (step.kind === 'packages') out.push(...step.files.map((p) => file(p, step.where)));
  }
  if (recipe.generalize.unattend !== null)
    out.push(file(recipe.generalize.unattend, `${recipe.file}: generalize.unattend`));
  return [...out, ...stepPaths(recipe.customize)];
}

const requireHostPath = hostPathCheck('host paths in a build recipe are relative to the recipe file');

/** How a build recipe is read when it is not a file on this machine (a recipe sent to a server). */
export interface RecipeReading {
  /** The recipe's text; `path` then only names it in messages. */
  readonly text: string;
  /** The folder its host paths are relative to. */
  readonly base: string;
  /** Checks each host file and folder it names. */
  readonly check: (input: StepPath) => Promise<void>;
}

/**
 * Reads a build recipe and checks every host file it names exists (or as `reading` says); scripts
 * given as files are read.
 */
export async function loadBuildRecipe(path: string, reading?: RecipeReading): Promise<BuildRecipe> {
  let text: string;
  if (reading === undefined) {
    await requireHostPath({ path: resolve(path), where: path, kind: 'file' });
    text = await readFile(path, 'utf8');
  } else {
    text = reading.text;
  }
  const recipe = parseBuildRecipe(text, path, reading?.base ?? dirname(resolve(path)));
  const check = reading?.check ?? requireHostPath;
  for (const input of recipeInputs(recipe)) await check(input);
  const provision: ProvisionStep[] = [];
  for (const step of recipe.provision) {
    provision.push(
      step.kind === 'powershell' && step.file !== undefined
        ? { ...step, text: await readFile(step.file, 'utf8') }
        : step,
    );
  }
  const customize = await loadStepFiles(recipe.customize, () => Promise.resolve());
  return { ...recipe, provision, customize };
}
