// Deployment profiles: what a machine gets when it is deployed, as a YAML file checked key by key
// (every error names FILE:LINE:COLUMN). A profile names the image (NAME:TAG or a manifest digest)
// and its edition, the firmware, the target disk rule, the disk layout, how the machine is named
// and given its administrator password, its addresses, the rest of its answer file (the keys of an
// unattend profile, docs/unattend.md), the steps the agent applies to the deployed Windows after
// the image (the steps of a recipe, their files in the server's deployment share:
// src/deploy/profile-steps.ts), and what to do at the end.
//
//   name: web
//   image: team-a/ws2022:2024-06
//   edition: 1
//   firmware: auto                    # uefi | bios | auto (as the machine booted)
//   disk: { size: '>= 40G' }           # the target disk rule (src/deploy/agent-protocol.ts)
//   computerName: WEB-{serial}        # {name} {serial} {mac6} {mac} {uuid8}
//   adminPassword: generate           # one per machine; or the password itself
//   productKey: kms                   # the edition's public KMS client key; or a key
//   network:
//     static:                         # by machine name or MAC; the others use DHCP
//       web-01: { addresses: [10.0.0.11/24], gateway: 10.0.0.1, dns: [10.0.0.2] }
//   unattend: { timeZone: UTC, locale: en-US }
//   customize:                        # files, registry, drivers, firstboot, features
//     - drivers: [ drivers/viostor ]  # paths relative to the deployment share
//     - firstboot: [ { powershell: 'Write-Output ready' }, { cmd: { file: scripts/setup.cmd } } ]
//   finish: reboot                    # or poweroff
//   uefiChain: shim                   # UEFI network boot: shim (Secure Boot) | ipxe | auto (the server's)

import { isMap, isScalar, isSeq, parseDocument, type Node, type Scalar } from 'yaml';
import { YamlInput } from '../config/yaml-input.ts';
import { isDigest, parseImageRef, type ImageRef } from '../core/names.ts';
import { readLayout, type DiskLayout } from '../image/disk/layout.ts';
import type { UnattendProfile } from '../formats/unattend/profile.ts';
import { readUnattendProfile } from '../image/unattend.ts';
import { DiskRule } from './agent-protocol.ts';
import { readProfileSteps, type ProfileStep } from './profile-steps.ts';
import { parseSizeComparison } from './size-comparison.ts';
import { UEFI_CHAIN_SETTINGS, type UefiChainSetting } from '../core/uefi-chain.ts';

export interface StaticAddresses {
  /** Addresses with their prefix length, e.g. 10.0.0.11/24. */
  readonly addresses: readonly string[];
  readonly gateway?: string;
  readonly dns?: readonly string[];
}

export interface DeploymentProfile {
  readonly name: string;
  readonly image: { readonly ref: ImageRef } | { readonly digest: string };
  /** The WIM image index (edition) to apply, from 1. */
  readonly edition: number;
  readonly firmware: 'uefi' | 'bios' | 'auto';
  readonly disk: DiskRule;
  /** Null: the default layout of the firmware the machine is deployed with. */
  readonly layout: DiskLayout | null;
  /** A pattern, or null to let Windows pick a name. */
  readonly computerName: string | null;
  /** 'generate': a new password per machine; a password; or null for none set. */
  readonly adminPassword: 'generate' | { readonly value: string } | null;
  /** 'kms': the edition's public KMS client key; a key; or null. */
  readonly productKey: string | null;
  /** Static addresses by machine name or MAC (lower case, colons); machines not named use DHCP. */
  readonly staticAddresses: Readonly<Record<string, StaticAddresses>>;
  readonly dnsDomain: string | null;
  /** The other answer-file settings. */
  readonly unattend: UnattendProfile;
  /** Steps applied to the deployed Windows after the image; their paths relative to the deployment share. */
  readonly customize: readonly ProfileStep[];
  readonly finish: 'reboot' | 'poweroff';
  /** The loader chain its UEFI machines network-boot through; auto: as the server chooses. */
  readonly uefiChain: UefiChainSetting;
}

const PROFILE_KEYS = [
  'name',
  'image',
  'edition',
  'firmware',
  'disk',
  'layout',
  'computerName',
  'adminPassword',
  'productKey',
  'network',
  'unattend',
  'customize',
  'finish',
  'uefiChain',
] as const;

/** Keys of an unattend profile a deployment profile gives at its top, per machine. */
const PER_MACHINE_KEYS = ['computerName', 'adminPassword', 'productKey', 'edition', 'build', 'network'];

const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const PATTERN_TOKENS = ['name', 'serial', 'mac6', 'mac', 'uuid8'] as const;
export type PatternToken = (typeof PATTERN_TOKENS)[number];
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$|^[0-9a-fA-F:]+\/\d{1,3}$/;
const ADDRESS = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+$/;
const PRODUCT_KEY = /^([A-Z0-9]{5}-){4}[A-Z0-9]{5}$/;

/** What a key's reader knows of the others: the firmware the profile names, if it names one. */
interface ReadContext {
  readonly firmware: 'uefi' | 'bios' | null;
}

type Reader = (y: YamlInput, node: Node | null, context: ReadContext) => Partial<Mutable<DeploymentProfile>>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function oneOf<T extends string>(y: YamlInput, node: Node | null, what: string, allowed: readonly T[]): T {
  const value = y.string(node, what);
  const found = allowed.find((a) => a === value);
  if (found === undefined) {
    throw y.error(
      node,
      `${what} must be ${allowed.join(', ')}, found '${value}'`,
      `write ${what}: ${allowed[0] ?? ''}`,
    );
  }
  return found;
}

function readImage(y: YamlInput, node: Node | null): Partial<DeploymentProfile> {
  const text = y.string(node, 'image');
  const digest = text.replace(/^sha256:/, '');
  if (isDigest(digest)) return { image: { digest } };
  try {
    return { image: { ref: parseImageRef(text) } };
  } catch (e) {
    throw y.error(
      node,
      `image must be NAME:TAG or a manifest digest: ${(e as Error).message}`,
      'e.g. image: team-a/ws2022:v1',
    );
  }
}

function readEdition(y: YamlInput, node: Node | null): Partial<DeploymentProfile> {
  const edition = y.scalar(node, 'edition');
  if (typeof edition !== 'number' || !Number.isInteger(edition) || edition < 1 || edition > 256) {
    throw y.error(
      node,
      `edition must be an image index from 1, found ${String(edition)}`,
      'see winsmith image info',
    );
  }
  return { edition };
}

function readDisk(y: YamlInput, node: Node | null): Partial<DeploymentProfile> {
  y.map(node, 'disk');
  const parsed = DiskRule.safeParse(y.plain(node));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw y.error(
      node,
      `disk${issue === undefined || issue.path.length === 0 ? '' : `.${issue.path.join('.')}`}: ${issue?.message ?? 'not valid'}`,
      'the disk rule takes size, model, vendor, serial, wwn, byPath, rotational, transport (docs/deploy.md)',
    );
  }
  const size = parsed.data.size;
  if (size !== undefined) {
    try {
      parseSizeComparison(size);
    } catch {
      throw y.error(
        node,
        `disk.size '${size}' is not a size or a comparison with one`,
        "write e.g. size: '>= 100G'",
      );
    }
  }
  return { disk: parsed.data };
}

function readComputerName(y: YamlInput, node: Node | null): Partial<DeploymentProfile> {
  const pattern = y.string(node, 'computerName');
  for (const [, token] of pattern.matchAll(/\{([^}]*)\}/g)) {
    if (!PATTERN_TOKENS.includes(token as PatternToken)) {
      throw y.error(
        node,
        `computerName has {${token ?? ''}}, expected one of ${PATTERN_TOKENS.map((t) => `{${t}}`).join(' ')}`,
        'e.g. WEB-{serial}',
      );
    }
  }
  if (!/^[A-Za-z0-9-]*$/.test(pattern.replace(/\{[^}]*\}/g, ''))) {
    throw y.error(
      node,
      `computerName '${pattern}' has characters other than letters, digits, hyphens and {tokens}`,
      'e.g. SRV-{mac6}',
    );
  }
  return { computerName: pattern };
}

function readAdminPassword(y: YamlInput, node: Node | null): Partial<DeploymentProfile> {
  const value = y.string(node, 'adminPassword');
  return { adminPassword: value === 'generate' ? 'generate' : { value } };
}

function readProductKey(y: YamlInput, node: Node | null): Partial<DeploymentProfile> {
  const key = y.string(node, 'productKey');
  if (key !== 'kms' && !PRODUCT_KEY.test(key)) {
    throw y.error(
      node,
      `productKey must be kms or XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`,
      "give kms for the edition's KMS client key",
    );
  }
  return { productKey: key };
}

function readAddresses(y: YamlInput, node: Node | null, what: string): StaticAddresses {
  const fields = y.mapOf(node, what, ['addresses', 'gateway', 'dns']);
  const list = (n: Node | null, field: string, pattern: RegExp, example: string): string[] =>
    y.seq(n, `${what}.${field}`, true).map((item) => {
      const text = y.string(item, `${what}.${field}`);
      if (!pattern.test(text))
        throw y.error(item, `${what}.${field} '${text}' is not ${example}`, `e.g. ${example}`);
      return text;
    });
  let addresses: string[] | undefined;
  const result: Mutable<Partial<StaticAddresses>> = {};
  for (const f of fields) {
    if (f.key === 'addresses')
      addresses = list(f.value, 'addresses', CIDR, 'an address with its prefix length (10.0.0.11/24)');
    else if (f.key === 'dns') result.dns = list(f.value, 'dns', ADDRESS, 'an address (10.0.0.2)');
    else result.gateway = list(f.value, 'gateway', ADDRESS, 'an address (10.0.0.1)')[0] ?? '';
  }
  if (addresses === undefined || addresses.length === 0) {
    throw y.error(node, `${what} needs addresses`, 'e.g. addresses: [10.0.0.11/24]');
  }
  return { ...result, addresses };
}

function readNetwork(y: YamlInput, node: Node | null): Partial<DeploymentProfile> {
  const out: Mutable<Partial<DeploymentProfile>> = {};
  for (const f of y.mapOf(node, 'network', ['static', 'dnsDomain'])) {
    if (f.key === 'dnsDomain') out.dnsDomain = y.string(f.value, 'network.dnsDomain');
    else {
      const table: Record<string, StaticAddresses> = {};
      for (const entry of y.map(f.value, 'network.static')) {
        const key = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(entry.key)
          ? entry.key.toLowerCase().replaceAll('-', ':')
          : entry.key;
        table[key] = readAddresses(y, entry.value, `network.static.${entry.key}`);
      }
      out.staticAddresses = table;
    }
  }
  return out;
}

function readUnattendSection(y: YamlInput, node: Node | null): Partial<DeploymentProfile> {
  for (const entry of y.map(node, 'unattend')) {
    if (PER_MACHINE_KEYS.includes(entry.key)) {
      throw y.error(
        entry.keyNode,
        `${entry.key} is set per machine: give it at the top of the profile, not under unattend`,
        `move ${entry.key} up`,
      );
    }
  }
  return { unattend: readUnattendProfile(y, node) };
}

const READERS: Readonly<Record<(typeof PROFILE_KEYS)[number], Reader>> = {
  name: (y, node) => {
    const name = y.string(node, 'name');
    if (!PROFILE_NAME.test(name))
      throw y.error(node, `profile name '${name}' is not 1 to 63 of a-z 0-9 . _ -`, 'e.g. name: web');
    return { name };
  },
  image: readImage,
  edition: readEdition,
  firmware: (y, node) => ({ firmware: oneOf(y, node, 'firmware', ['auto', 'uefi', 'bios'] as const) }),
  disk: readDisk,
  layout: (y, node, context) => ({
    layout: readLayout(
      node,
      context.firmware === null ? null : { firmware: context.firmware, by: 'the profile' },
      (n) => y.where(n),
      y.file,
    ),
  }),
  computerName: readComputerName,
  adminPassword: readAdminPassword,
  productKey: readProductKey,
  network: readNetwork,
  unattend: readUnattendSection,
  customize: (y, node) => ({ customize: readProfileSteps(y, node, (sharePath) => sharePath) }),
  finish: (y, node) => ({ finish: oneOf(y, node, 'finish', ['reboot', 'poweroff'] as const) }),
  uefiChain: (y, node) => ({ uefiChain: oneOf(y, node, 'uefiChain', UEFI_CHAIN_SETTINGS) }),
};

/** A profile from its YAML text; throws FORMAT_INVALID naming FILE:LINE:COLUMN on the first problem. */
export function parseProfile(text: string, file: string): DeploymentProfile {
  const y = YamlInput.parse(text, file);
  const entries = y.mapOf(y.root, 'the deployment profile', PROFILE_KEYS);
  const named = entries.find((e) => e.key === 'firmware');
  const firmware =
    named === undefined ? 'auto' : (READERS.firmware(y, named.value, { firmware: null }).firmware ?? 'auto');
  const context = { firmware: firmware === 'auto' ? null : firmware };
  let profile: Partial<Mutable<DeploymentProfile>> = {};
  for (const entry of entries) {
    profile = { ...profile, ...READERS[entry.key as keyof typeof READERS](y, entry.value, context) };
  }
  const { name, image } = profile;
  if (name === undefined) throw y.error(y.root, 'the profile has no name', 'add name: (e.g. name: web)');
  if (image === undefined) throw y.error(y.root, 'the profile names no image', 'add image: NAME:TAG');
  const layout = profile.layout ?? null;
  return {
    name,
    image,
    edition: profile.edition ?? 1,
    firmware: layout === null ? firmware : layout.firmware,
    disk: profile.disk ?? {},
    layout,
    computerName: profile.computerName ?? null,
    adminPassword: profile.adminPassword ?? null,
    productKey: profile.productKey ?? null,
    staticAddresses: profile.staticAddresses ?? {},
    dnsDomain: profile.dnsDomain ?? null,
    unattend: profile.unattend ?? {},
    customize: profile.customize ?? [],
    finish: profile.finish ?? 'reboot',
    uefiChain: profile.uefiChain ?? 'auto',
  };
}

/** Keys whose values are passwords, in a profile and in its answer-file settings. */
const SECRET_KEYS = new Set(['adminPassword', 'password']);

/**
 * What a stored password is shown as, and, in an edited profile, the value that keeps the stored
 * password at that place (keepProfileSecrets).
 */
export const PROFILE_SECRET_MASK = '********';

interface SecretScalar {
  /** Where it is: its keys and list positions, e.g. unattend.domainJoin.password. */
  readonly path: string;
  readonly node: Scalar;
}

/** The password scalars of a profile's document, in the document's order (`generate` is no password). */
function secretScalars(root: unknown): SecretScalar[] {
  const found: SecretScalar[] = [];
  const visit = (node: unknown, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const at = path === '' ? key : `${path}.${key}`;
        if (SECRET_KEYS.has(key) && isScalar(pair.value)) {
          if (pair.value.value !== 'generate') found.push({ path: at, node: pair.value });
        } else visit(pair.value, at);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, `${path}[${i}]`));
    }
  };
  visit(root, '');
  return found;
}

/** The profile's YAML with every password replaced by PROFILE_SECRET_MASK (`generate` is kept: it is no password). */
export function redactProfile(text: string): string {
  const doc = parseDocument(text);
  for (const { node } of secretScalars(doc.contents)) node.value = PROFILE_SECRET_MASK;
  return doc.toString();
}

/**
 * An edited profile's YAML with each password written as PROFILE_SECRET_MASK replaced by the
 * password `stored` (the profile's YAML as stored, null when there is none) has at the same place:
 * the same keys, the same list positions. So a profile shown masked (redactProfile) can be edited
 * and stored again without its passwords ever being sent back. The text is changed only in those
 * values, so its lines stay those of the edit. A mask where the stored profile has no password is
 * FORMAT_INVALID at its line and column.
 */
export function keepProfileSecrets(edited: string, stored: string | null, file: string): string {
  const y = YamlInput.parse(edited, file);
  const kept = new Map(
    (stored === null ? [] : secretScalars(parseDocument(stored).contents)).map((s) => [s.path, s.node.value]),
  );
  const masked = secretScalars(y.root).filter((s) => s.node.value === PROFILE_SECRET_MASK);
  const replacements = masked.map(({ path, node }) => {
    const value = kept.get(path);
    if (typeof value !== 'string' || value === PROFILE_SECRET_MASK) {
      throw y.error(
        node,
        `${path} is ${PROFILE_SECRET_MASK}, which keeps the stored password, and the stored profile has no password there`,
        'write the password itself (or adminPassword: generate)',
      );
    }
    const [start = 0, end = 0] = node.range ?? [];
    return { start, end, value };
  });
  let text = edited;
  // From the end of the text, so that each replacement leaves the offsets before it as they were;
  // a JSON string is a YAML double-quoted scalar: the password read back is the stored one.
  for (const { start, end, value } of replacements.sort((a, b) => b.start - a.start)) {
    text = `${text.slice(0, start)}${JSON.stringify(value)}${text.slice(end)}`;
  }
  return text;
}
