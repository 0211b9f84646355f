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
  type UnattendLocale,
  type UnattendProfile,
} from '../formats/unattend/index.ts';
import { writeOutputFile } from '../io/output.ts';
import { requireFile } from '../io/paths.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

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

class ProfileReader {
  readonly y: YamlInput;

  constructor(y: YamlInput) {
    this.y = y;
  }

  text(node: Node | null, what: string): string {
    const value = this.y.string(node, what);
    if (value === '') throw this.y.error(node, `${what} must not be empty`, `give ${what} a value`);
    return value;
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
  entries(
    node: Node | null,
    what: string,
    allowed: readonly string[],
    required: readonly string[] = [],
  ): Map<string, Node | null> {
    const entries = this.y.mapOf(node, what, allowed);
    const map = new Map(entries.map((e) => [e.key, e.value]));
    for (const r of required)
      if (!map.has(r))
        throw this.y.error(
          node,
          `${what} needs ${r}, found none (it has ${[...map.keys()].join(', ') || 'nothing'})`,
          `add ${r}: to ${what}`,
        );
    return map;
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
}

function readLocale(r: ProfileReader, node: Node | null): string | UnattendLocale {
  if (!isMap(node)) {
    const v = r.text(node, 'locale');
    if (!LANGUAGE_TAG.test(v))
      throw r.y.error(
        node,
        `locale must be a language tag like fr-FR or en-US, found "${v}"`,
        'use a tag such as en-US',
      );
    return v;
  }
  const m = r.entries(node, 'locale', ['input', 'system', 'ui', 'user'], ['input', 'system', 'ui', 'user']);
  const get = (k: string): string => r.text(m.get(k) ?? null, `locale.${k}`);
  return { input: get('input'), system: get('system'), ui: get('ui'), user: get('user') };
}

function readCommands<T>(
  r: ProfileReader,
  node: Node | null,
  what: string,
  main: string,
  keys: readonly string[],
  build: (m: Map<string, Node | null>, itemWhat: string) => T,
): T[] {
  return r.list(node, what).map((item, n) => {
    const itemWhat = `${what}[${n}]`;
    if (isMap(item)) return build(r.entries(item, itemWhat, keys, [main]), itemWhat);
    return build(new Map([[main, item]]), itemWhat);
  });
}

/** A profile from its YAML node; throws AppError naming FILE:LINE:COLUMN on the first problem. */
export function readUnattendProfile(y: YamlInput, node: Node | null): UnattendProfile {
  const r = new ProfileReader(y);
  const m = r.entries(node, 'the unattend profile', PROFILE_KEYS);
  const p: Mutable<UnattendProfile> = {};
  const str = (k: string, v: Node | null): string => r.text(v, k);
  const opt = (map: Map<string, Node | null>, k: string, what: string): string | undefined =>
    map.has(k) ? r.text(map.get(k) ?? null, `${what}.${k}`) : undefined;
  for (const [key, v] of m) {
    switch (key) {
      case 'computerName': {
        const name = str(key, v);
        if (name !== '*' && (!COMPUTER_NAME.test(name) || /^\d+$/.test(name)))
          throw y.error(
            v,
            `computerName must be 1 to 15 letters, digits or hyphens, not only digits (or * for a random name), found "${name}"`,
            'shorten or rename it',
          );
        p.computerName = name;
        break;
      }
      case 'timeZone':
        p.timeZone = str(key, v);
        break;
      case 'locale':
        p.locale = readLocale(r, v);
        break;
      case 'adminPassword':
        p.adminPassword = str(key, v);
        break;
      case 'organization':
        p.organization = str(key, v);
        break;
      case 'owner':
        p.owner = str(key, v);
        break;
      case 'autoLogon': {
        const a = r.entries(
          v,
          'autoLogon',
          ['username', 'password', 'count', 'domain'],
          ['username', 'password'],
        );
        const count = a.get('count');
        const domain = opt(a, 'domain', 'autoLogon');
        p.autoLogon = {
          username: r.text(a.get('username') ?? null, 'autoLogon.username'),
          password: r.text(a.get('password') ?? null, 'autoLogon.password'),
          ...(count === undefined ? {} : { count: r.int(count, 'autoLogon.count', 1, 999) }),
          ...(domain === undefined ? {} : { domain }),
        };
        break;
      }
      case 'localAccounts':
        p.localAccounts = r.list(v, 'localAccounts').map((item, n) => {
          const what = `localAccounts[${n}]`;
          const a = r.entries(
            item,
            what,
            ['name', 'password', 'group', 'displayName', 'description'],
            ['name', 'password'],
          );
          const extra = Object.fromEntries(
            (['group', 'displayName', 'description'] as const).flatMap((k) => {
              const t = opt(a, k, what);
              return t === undefined ? [] : [[k, t]];
            }),
          );
          return {
            name: r.text(a.get('name') ?? null, `${what}.name`),
            password: r.text(a.get('password') ?? null, `${what}.password`),
            ...extra,
          };
        });
        break;
      case 'firstLogonCommands':
        p.firstLogonCommands = readCommands(
          r,
          v,
          key,
          'command',
          ['command', 'description', 'requiresUserInput'],
          (c, what) => {
            const description = opt(c, 'description', what);
            const input = c.get('requiresUserInput');
            return {
              command: r.text(c.get('command') ?? null, `${what}.command`),
              ...(description === undefined ? {} : { description }),
              ...(input === undefined
                ? {}
                : { requiresUserInput: y.boolean(input, `${what}.requiresUserInput`) }),
            };
          },
        );
        break;
      case 'runSynchronous':
        p.runSynchronous = readCommands(
          r,
          v,
          key,
          'path',
          ['path', 'description', 'willReboot'],
          (c, what) => {
            const description = opt(c, 'description', what);
            const reboot = c.get('willReboot');
            return {
              path: r.text(c.get('path') ?? null, `${what}.path`),
              ...(description === undefined ? {} : { description }),
              ...(reboot === undefined
                ? {}
                : {
                    willReboot: r.oneOf(reboot, `${what}.willReboot`, [
                      'Always',
                      'Never',
                      'OnRequest',
                    ] as const),
                  }),
            };
          },
        );
        break;
      case 'domainJoin': {
        const d = r.entries(
          v,
          'domainJoin',
          ['domain', 'username', 'password', 'credentialsDomain', 'ou'],
          ['domain', 'username', 'password'],
        );
        const credentialsDomain = opt(d, 'credentialsDomain', 'domainJoin');
        const ou = opt(d, 'ou', 'domainJoin');
        p.domainJoin = {
          domain: r.text(d.get('domain') ?? null, 'domainJoin.domain'),
          username: r.text(d.get('username') ?? null, 'domainJoin.username'),
          password: r.text(d.get('password') ?? null, 'domainJoin.password'),
          ...(credentialsDomain === undefined ? {} : { credentialsDomain }),
          ...(ou === undefined ? {} : { ou }),
        };
        break;
      }
      case 'network': {
        const n = r.entries(v, 'network', ['interfaces', 'dnsDomain']);
        const dnsDomain = opt(n, 'dnsDomain', 'network');
        const list = n.get('interfaces');
        p.network = {
          ...(dnsDomain === undefined ? {} : { dnsDomain }),
          ...(list === undefined
            ? {}
            : {
                interfaces: r.list(list, 'network.interfaces').map((item, i) => {
                  const what = `network.interfaces[${i}]`;
                  const f = r.entries(
                    item,
                    what,
                    ['identifier', 'addresses', 'gateway', 'dns'],
                    ['identifier'],
                  );
                  const addresses = f.get('addresses');
                  const gateway = f.get('gateway');
                  const dns = f.get('dns');
                  return {
                    identifier: r.text(f.get('identifier') ?? null, `${what}.identifier`),
                    ...(addresses === undefined
                      ? {}
                      : {
                          addresses: y
                            .seq(addresses, `${what}.addresses`, true)
                            .map((a, j) => r.address(a, `${what}.addresses[${j}]`, true)),
                        }),
                    ...(gateway === undefined
                      ? {}
                      : { gateway: r.address(gateway, `${what}.gateway`, false) }),
                    ...(dns === undefined
                      ? {}
                      : {
                          dns: y
                            .seq(dns, `${what}.dns`, true)
                            .map((a, j) => r.address(a, `${what}.dns[${j}]`, false)),
                        }),
                  };
                }),
              }),
        };
        break;
      }
      case 'rdp':
        p.rdp = y.boolean(v, 'rdp');
        break;
      case 'productKey': {
        const k = str(key, v);
        if (k.toLowerCase() !== 'kms' && !PRODUCT_KEY.test(k))
          throw y.error(
            v,
            `productKey must be kms or a key XXXXX-XXXXX-XXXXX-XXXXX-XXXXX, found "${k}"`,
            'check the key',
          );
        p.productKey = k;
        break;
      }
      case 'edition':
        p.edition = str(key, v);
        break;
      case 'build':
        p.build = r.int(v, 'build', 1, 99999);
        break;
      case 'oobe': {
        const o = r.entries(v, 'oobe', ['hideEulaPage', 'skipMachineOobe', 'skipUserOobe', 'protectYourPC']);
        const flag = (k: string): { [x: string]: boolean } => {
          const n = o.get(k);
          return n === undefined ? {} : { [k]: y.boolean(n, `oobe.${k}`) };
        };
        const protect = o.get('protectYourPC');
        p.oobe = {
          ...flag('hideEulaPage'),
          ...flag('skipMachineOobe'),
          ...flag('skipUserOobe'),
          ...(protect === undefined
            ? {}
            : { protectYourPC: r.int(protect, 'oobe.protectYourPC', 1, 3) as 1 | 2 | 3 }),
        };
        break;
      }
      case 'arch':
        p.arch = r.oneOf(
          v,
          'arch',
          UNATTEND_ARCHES.filter((a) => a !== 'wow64'),
        );
        break;
    }
  }
  if (p.productKey?.toLowerCase() === 'kms' && (p.edition === undefined || p.build === undefined))
    throw y.error(
      m.get('productKey') ?? node,
      'productKey: kms needs edition: (the EditionID, e.g. ServerDatacenter) and build: (e.g. 20348) in the profile',
      'add edition: and build:, or give the key itself',
    );
  return p;
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
