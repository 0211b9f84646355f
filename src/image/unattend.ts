// Answer files from deployment profiles: a profile YAML checked key by key (errors name
// FILE:LINE:COLUMN and what was expected), turned into unattend.xml (merged into a user's file when
// one is given) and linted; and lint of existing answer files. The XML work is in
// src/formats/unattend; this module reads and writes the files.

import { readFile, writeFile } from 'node:fs/promises';
import { isMap, type Node } from 'yaml';
import { YamlInput } from '../config/yaml-input.ts';
import { AppError, isAppError } from '../core/errors.ts';
import {
  buildUnattend,
  lintUnattend,
  parseUnattend,
  PROFILE_KEYS,
  renderUnattend,
  UNATTEND_ARCHES,
  type LintUnattendOptions,
  type Unattend,
  type UnattendFinding,
  type UnattendProfile,
} from '../formats/unattend/index.ts';
import { writeOutputFile } from '../io/output.ts';
import { requireFile } from '../io/paths.ts';

const COMPUTER_NAME = /^[A-Za-z0-9-]{1,15}$/;
const PRODUCT_KEY = /^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/i;
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

function ipv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function ipv6(text: string): boolean {
  return /^[0-9a-f:]+$/i.test(text) && text.includes(':') && text.split('::').length <= 2;
}

type ProfileKey = (typeof PROFILE_KEYS)[number];
type Fields = ReadonlyMap<string, Node | null>;
type Read<T> = (node: Node | null, what: string) => T;

class ProfileReader {
  readonly y: YamlInput;

  constructor(y: YamlInput) {
    this.y = y;
  }

  readonly text: Read<string> = (node, what) => {
    const value = this.y.string(node, what);
    if (value === '') throw this.y.error(node, `${what} must not be empty`, `give ${what} a value`);
    return value;
  };

  readonly boolean: Read<boolean> = (node, what) => this.y.boolean(node, what);

  /** Text that passes `valid`; otherwise an error saying what it must be. */
  checked(
    node: Node | null,
    what: string,
    valid: (v: string) => boolean,
    expected: string,
    hint: string,
  ): string {
    const v = this.text(node, what);
    if (!valid(v)) throw this.y.error(node, `${what} must be ${expected}, found "${v}"`, hint);
    return v;
  }

  int(node: Node | null, what: string, min: number, max: number): number {
    const v = this.y.scalar(node, what);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw this.y.error(
        node,
        `${what} must be a whole number from ${min} to ${max}, found ${JSON.stringify(String(v))}`,
        `write ${what}: followed by a number`,
      );
    return v;
  }

  oneOf<T extends string>(node: Node | null, what: string, allowed: readonly T[]): T {
    const v = this.y.string(node, what);
    const found = allowed.find((a) => a === v);
    if (found === undefined)
      throw this.y.error(
        node,
        `${what} must be one of ${allowed.join(', ')}, found "${v}"`,
        `use one of ${allowed.join(', ')}`,
      );
    return found;
  }

  /** Entries of a mapping with only `allowed` keys, and all of `required`. */
  entries<const K extends string>(
    node: Node | null,
    what: string,
    allowed: readonly K[],
    required: readonly K[] = [],
  ): Map<K, Node | null> {
    const entries = this.y.mapOf(node, what, allowed);
    // mapOf has refused every key not in `allowed`.
    const map = new Map(entries.map((e) => [e.key as K, e.value]));
    for (const r of required)
      if (!map.has(r))
        throw this.y.error(
          node,
          `${what} needs ${r}, found none (it has ${[...map.keys()].join(', ') || 'nothing'})`,
          `add ${r}: to ${what}`,
        );
    return map;
  }

  /** The text of each of `keys` in a mapping read by entries(), which has them all. */
  texts<K extends string>(m: Fields, what: string, keys: readonly K[]): Record<K, string> {
    const out = {} as Record<K, string>;
    for (const k of keys) out[k] = this.text(m.get(k) ?? null, `${what}.${k}`);
    return out;
  }

  /** `read` of each of `keys` that a mapping read by entries() has; those it lacks are left out. */
  optional<K extends string, T>(
    m: Fields,
    what: string,
    keys: readonly K[],
    read: Read<T>,
  ): Partial<Record<K, T>> {
    const out: Partial<Record<K, T>> = {};
    for (const k of keys) {
      const node = m.get(k);
      if (node !== undefined) out[k] = read(node, `${what}.${k}`);
    }
    return out;
  }

  /** A mapping of text fields: all of `required`, and those of `optional` it has. */
  textFields<const R extends string, const O extends string>(
    node: Node | null,
    what: string,
    required: readonly R[],
    optional: readonly O[],
  ): Record<R, string> & Partial<Record<O, string>> {
    const m = this.entries<R | O>(node, what, [...required, ...optional], required);
    const present = this.optional(m, what, optional, this.text);
    return { ...this.texts(m, what, required), ...present };
  }

  list(node: Node | null, what: string): (Node | null)[] {
    return this.y.seq(node, what);
  }

  address(node: Node | null, what: string, withPrefix: boolean): string {
    const v = this.text(node, what);
    const [ip = '', prefix, ...rest] = v.split('/');
    const v4 = ipv4(ip);
    const okIp = v4 || ipv6(ip);
    const okPrefix = withPrefix
      ? prefix !== undefined &&
        rest.length === 0 &&
        /^\d{1,3}$/.test(prefix) &&
        Number(prefix) <= (v4 ? 32 : 128)
      : prefix === undefined;
    if (!okIp || !okPrefix)
      throw this.y.error(
        node,
        `${what} must be an IPv4 or IPv6 address${withPrefix ? ' with its prefix length (10.0.0.5/24)' : ' (10.0.0.1)'}, found "${v}"`,
        withPrefix ? 'write the address as ADDRESS/PREFIX' : 'write the address alone',
      );
    return v;
  }

  /** One address or a list of them. */
  addresses(node: Node | null, what: string, withPrefix: boolean): string[] {
    return this.y.seq(node, what, true).map((a, j) => this.address(a, `${what}[${j}]`, withPrefix));
  }
}

/** Reads the value of one profile key from its node; `what` names it in errors. */
type SettingReader<T> = (r: ProfileReader, node: Node | null, what: string) => T;

type Setting<K extends ProfileKey> = NonNullable<UnattendProfile[K]>;

const readString: SettingReader<string> = (r, node, what) => r.text(node, what);

const readComputerName: SettingReader<string> = (r, node, what) =>
  r.checked(
    node,
    what,
    (v) => v === '*' || (COMPUTER_NAME.test(v) && !/^\d+$/.test(v)),
    '1 to 15 letters, digits or hyphens, not only digits (or * for a random name)',
    'shorten or rename it',
  );

const readLocale: SettingReader<Setting<'locale'>> = (r, node, what) => {
  if (!isMap(node))
    return r.checked(
      node,
      what,
      (v) => LANGUAGE_TAG.test(v),
      'a language tag like fr-FR or en-US',
      'use a tag such as en-US',
    );
  const keys = ['input', 'system', 'ui', 'user'] as const;
  return r.texts(r.entries(node, what, keys, keys), what, keys);
};

const readAutoLogon: SettingReader<Setting<'autoLogon'>> = (r, node, what) => {
  const a = r.entries(node, what, ['username', 'password', 'count', 'domain'], ['username', 'password']);
  const domain = r.optional(a, what, ['domain'], r.text);
  return {
    ...r.texts(a, what, ['username', 'password']),
    ...r.optional(a, what, ['count'], (n, w) => r.int(n, w, 1, 999)),
    ...domain,
  };
};

/** A list of commands: each `main` alone, or a mapping of `main`, a description and `extra`. */
function readCommands<const M extends string, const E extends string, T>(
  r: ProfileReader,
  node: Node | null,
  what: string,
  main: M,
  extra: E,
  readExtra: Read<T>,
): (Record<M, string> & { description?: string } & Partial<Record<E, T>>)[] {
  return r.list(node, what).map((item, n) => {
    const w = `${what}[${n}]`;
    const c: Fields = isMap(item)
      ? r.entries(item, w, [main, 'description', extra], [main])
      : new Map([[main, item]]);
    const description = r.optional(c, w, ['description'], r.text);
    return { ...r.texts(c, w, [main]), ...description, ...r.optional(c, w, [extra], readExtra) };
  });
}

const readInterface: SettingReader<NonNullable<Setting<'network'>['interfaces']>[number]> = (
  r,
  node,
  what,
) => {
  const f = r.entries(node, what, ['identifier', 'addresses', 'gateway', 'dns'], ['identifier']);
  return {
    ...r.texts(f, what, ['identifier']),
    ...r.optional(f, what, ['addresses'], (n, w) => r.addresses(n, w, true)),
    ...r.optional(f, what, ['gateway'], (n, w) => r.address(n, w, false)),
    ...r.optional(f, what, ['dns'], (n, w) => r.addresses(n, w, false)),
  };
};

const readNetwork: SettingReader<Setting<'network'>> = (r, node, what) => {
  const m = r.entries(node, what, ['interfaces', 'dnsDomain']);
  const dnsDomain = r.optional(m, what, ['dnsDomain'], r.text);
  const interfaces = r.optional(m, what, ['interfaces'], (list, w) =>
    r.list(list, w).map((item, i) => readInterface(r, item, `${w}[${i}]`)),
  );
  return { ...dnsDomain, ...interfaces };
};

const readOobe: SettingReader<Setting<'oobe'>> = (r, node, what) => {
  const o = r.entries(node, what, ['hideEulaPage', 'skipMachineOobe', 'skipUserOobe', 'protectYourPC']);
  return {
    ...r.optional(o, what, ['hideEulaPage', 'skipMachineOobe', 'skipUserOobe'], r.boolean),
    ...r.optional(o, what, ['protectYourPC'], (n, w) => r.int(n, w, 1, 3) as 1 | 2 | 3),
  };
};

/** The reader of each profile key. */
const SETTINGS: { readonly [K in ProfileKey]: SettingReader<Setting<K>> } = {
  computerName: readComputerName,
  timeZone: readString,
  locale: readLocale,
  adminPassword: readString,
  organization: readString,
  owner: readString,
  autoLogon: readAutoLogon,
  localAccounts: (r, node, what) =>
    r
      .list(node, what)
      .map((item, n) =>
        r.textFields(item, `${what}[${n}]`, ['name', 'password'], ['group', 'displayName', 'description']),
      ),
  firstLogonCommands: (r, node, what) =>
    readCommands(r, node, what, 'command', 'requiresUserInput', r.boolean),
  runSynchronous: (r, node, what) =>
    readCommands(r, node, what, 'path', 'willReboot', (n, w) =>
      r.oneOf(n, w, ['Always', 'Never', 'OnRequest'] as const),
    ),
  domainJoin: (r, node, what) =>
    r.textFields(node, what, ['domain', 'username', 'password'], ['credentialsDomain', 'ou']),
  network: readNetwork,
  rdp: (r, node, what) => r.boolean(node, what),
  productKey: (r, node, what) =>
    r.checked(
      node,
      what,
      (v) => v.toLowerCase() === 'kms' || PRODUCT_KEY.test(v),
      'kms or a key XXXXX-XXXXX-XXXXX-XXXXX-XXXXX',
      'check the key',
    ),
  edition: readString,
  build: (r, node, what) => r.int(node, what, 1, 99999),
  oobe: readOobe,
  arch: (r, node, what) =>
    r.oneOf(
      node,
      what,
      UNATTEND_ARCHES.filter((a) => a !== 'wow64'),
    ),
};

/** A profile as it is read, key by key. */
type Draft<K extends ProfileKey = ProfileKey> = { -readonly [P in K]?: Setting<P> };

function readSetting<K extends ProfileKey>(
  r: ProfileReader,
  profile: Draft<K>,
  key: K,
  node: Node | null,
): void {
  profile[key] = SETTINGS[key](r, node, key);
}

/** A profile from its YAML node; throws AppError naming FILE:LINE:COLUMN on the first problem. */
export function readUnattendProfile(y: YamlInput, node: Node | null): UnattendProfile {
  const r = new ProfileReader(y);
  const m = r.entries(node, 'the unattend profile', PROFILE_KEYS);
  const profile: Draft = {};
  for (const [key, v] of m) readSetting(r, profile, key, v);
  // The KMS client key is found by edition and build.
  if (
    profile.productKey?.toLowerCase() === 'kms' &&
    (profile.edition === undefined || profile.build === undefined)
  )
    throw y.error(
      m.get('productKey') ?? node,
      'productKey: kms needs edition: (the EditionID, e.g. ServerDatacenter) and build: (e.g. 20348) in the profile',
      'add edition: and build:, or give the key itself',
    );
  return profile;
}

async function readText(path: string): Promise<Uint8Array> {
  await requireFile(path);
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new AppError('IO_ERROR', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Reads and checks a profile YAML file. */
export async function loadUnattendProfile(path: string): Promise<UnattendProfile> {
  const y = YamlInput.parse(new TextDecoder().decode(await readText(path)), path);
  return readUnattendProfile(y, y.root);
}

/** Reads an existing answer file; errors name the file. */
export async function loadUnattendFile(path: string): Promise<Unattend> {
  const bytes = await readText(path);
  try {
    return parseUnattend(bytes);
  } catch (e) {
    if (!isAppError(e)) throw e;
    throw new AppError(e.code, `${path}: ${e.message}`, {
      hint: 'fix the answer file at the line named (winsmith unattend lint shows every problem)',
      cause: e,
    });
  }
}

export interface RenderedUnattend {
  readonly xml: string;
  /** Warnings lint found in the result (errors stop the render). */
  readonly warnings: readonly UnattendFinding[];
}

/** The answer file of a profile (over `base` when given), linted: errors are refused. */
export function renderProfile(
  profile: UnattendProfile,
  base?: Unattend,
  where = 'the answer file',
): RenderedUnattend {
  const xml = renderUnattend(buildUnattend(profile, base));
  const findings = lintUnattend(xml);
  const firstError = findings.find((f) => f.severity === 'error');
  if (firstError !== undefined)
    throw new AppError(
      'INVALID_ARGUMENT',
      `${where} would have an error at line ${firstError.line}: ${firstError.message}`,
      {
        hint: 'fix the file merged into, or the profile',
      },
    );
  return { xml, warnings: findings };
}

/** Writes an answer file atomically. */
export async function writeUnattendFile(dest: string, xml: string, overwrite: boolean): Promise<void> {
  await writeOutputFile(dest, (tmp) => writeFile(tmp, xml, 'utf8'), { overwrite });
}

/** The findings of an answer file on disk. */
export async function lintUnattendFile(
  path: string,
  options: LintUnattendOptions = {},
): Promise<UnattendFinding[]> {
  return lintUnattend(await readText(path), options);
}
