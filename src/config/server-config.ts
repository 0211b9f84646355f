// Settings of `winsmith server` and of a repository opened on a data directory: embedded defaults
// (SQLite catalog and blobs on the filesystem under the data directory), overridden by a YAML file
// (--config), then by the environment (WINSMITH_DATA, WINSMITH_LISTEN), then by flags. Errors in the
// file name FILE:LINE:COLUMN (src/config/yaml-input.ts).

import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../core/errors.ts';
import { YamlInput, type YamlEntry } from './yaml-input.ts';
import { UEFI_CHAIN_SETTINGS, type UefiChainSetting } from '../core/uefi-chain.ts';

export type CatalogSettings =
  { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

export type BlobSettings =
  | { readonly kind: 'fs'; readonly path: string }
  | {
      readonly kind: 's3';
      readonly endpoint: string;
      readonly bucket: string;
      readonly region: string;
      readonly prefix: string;
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
    };

export interface ChunkingSettings {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
}

export interface ServerSettings {
  readonly data: string;
  readonly host: string;
  readonly port: number;
  readonly catalog: CatalogSettings;
  readonly blobs: BlobSettings;
  /** Unreferenced chunks younger than this are kept by gc (they may belong to a push under way). */
  readonly gcGraceSeconds: number;
  /** Largest request body accepted for one chunk (the chunker's maximum plus slack). */
  readonly maxChunkBytes: number;
  /** Chunks a pushed manifest may list; its request body is limited to what they take. */
  readonly maxManifestChunks: number;
  /** Largest body of any other request (JSON). */
  readonly maxJsonBodyBytes: number;
  /** Machines that registered themselves by booting and wait for approval, at most. */
  readonly maxPendingMachines: number;
  /** Unknown machines one client address may register in a minute. */
  readonly registrationsPerMinute: number;
  /** Chunk sizes used when pushing into this repository; null = the chunker's defaults. */
  readonly chunking: ChunkingSettings | null;
  /** The variable holding the secrets key (base64); null: the key file DATA/secrets.key. */
  readonly secretsKeyEnv: string | null;
  /** A working deploy agent reports at least this often. */
  readonly heartbeatSeconds: number;
  /** A deployment whose agent, once it has reported, is silent this long fails ("agent lost"). */
  readonly agentTimeoutSeconds: number;
  /** A deployment whose machine booted the deploy environment this long ago with no report from its agent fails. */
  readonly bootTimeoutSeconds: number;
  /** The deployment share: the folder whose files profiles' steps name (docs/deploy.md). */
  readonly share: string;
  /** The loader chain of UEFI machines that PXE-boot: shim, ipxe, or auto (by their Secure Boot state). */
  readonly uefiChain: UefiChainSetting;
  /** Multicast sessions: the boot network's interface, the address range, the rules' defaults. */
  readonly multicast: MulticastSettings;
  /** Builds the server runs: where they are kept, how many at once, on which accelerator. */
  readonly builds: BuildSettings;
  /** The least level of the JSON log lines written. */
  readonly logLevel: LogLevel;
  /** Who may read GET /metrics. */
  readonly metrics: MetricsSettings;
  /** HTTPS on the listener: the API then answers only over it. Null: plain HTTP. */
  readonly tls: TlsSettings | null;
  /** A second, plain-HTTP listener for the boot routes and the deploy agent (docs/server.md). */
  readonly bootListen: { readonly host: string; readonly port: number } | null;
}

/** The server's certificate (PEM, its chain after it) and private key (PEM), as files. */
export interface TlsSettings {
  readonly cert: string;
  readonly key: string;
}

export interface BuildSettings {
  readonly dir: string;
  readonly max: number;
  /** auto: KVM when a VM starts with it, else TCG. */
  readonly accelerator: 'auto' | 'kvm' | 'tcg';
}

export const BUILD_ACCELERATORS = ['auto', 'kvm', 'tcg'] as const;
/** One build at a time: a Windows install takes the machine's memory and disk bandwidth. */
export const DEFAULT_MAX_BUILDS = 1;

/** The levels of the server's log, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface MetricsSettings {
  /** A Bearer token that may read /metrics from any address; null: none. */
  readonly token: string | null;
  /** Client addresses and networks (CIDR) that may read /metrics without the token. */
  readonly allow: readonly string[];
}

/** Without a config: /metrics only from this machine. */
export const DEFAULT_METRICS_ALLOW = ['127.0.0.0/8', '::1'] as const;

export interface MulticastSettings {
  /** The boot network's interface: udp-sender sends there, and nowhere else. Null: no sessions. */
  readonly interface: string | null;
  /** The network namespace that interface is in, when the boot network lives in one. */
  readonly netns: string | null;
  /** The administratively scoped range session addresses are taken from (e.g. 239.192.85.0/24). */
  readonly addresses: string;
  /** The first session's UDP ports are this (even) one and the next; the next session's the two after. */
  readonly portBase: number;
  /** A session starts once this many of its machines joined; null: all of them. */
  readonly minReceivers: number | null;
  /** …or this long after its first machine joined, with those that did. */
  readonly maxWaitSeconds: number;
  /** The rate cap of a session, in bits per second; null: none. */
  readonly maxBitsPerSecond: number | null;
  /** A receiver that does not acknowledge after this many requests is dropped (it goes unicast). */
  readonly retriesUntilDrop: number;
  /** A receiver that hears nothing this long gives up and goes unicast. */
  readonly receiveTimeoutSeconds: number;
  /** Where the pipable WIMs being sent are written. */
  readonly workDir: string;
}

export const DEFAULT_MULTICAST = {
  interface: null,
  netns: null,
  addresses: '239.192.85.0/24',
  portBase: 9000,
  minReceivers: null,
  maxWaitSeconds: 60,
  maxBitsPerSecond: null,
  retriesUntilDrop: 30,
  receiveTimeoutSeconds: 30,
} as const satisfies Omit<MulticastSettings, 'workDir'>;

/**
 * The data directory when none is named: `./winsmith-data` (beside the config file when there is
 * one, else in the start directory), unless the environment names one (systemdDataDir).
 */
export const DEFAULT_DATA_DIR = './winsmith-data';

/** The state directory systemd made for the service (StateDirectory=: $STATE_DIRECTORY), if any. */
function systemdDataDir(env: NodeJS.ProcessEnv): string | undefined {
  const first = env.STATE_DIRECTORY?.split(':')[0];
  return first === undefined || first === '' ? undefined : first;
}
export const DEFAULT_LISTEN = '127.0.0.1:8080';
/** One day: a push interrupted longer than that starts its missing chunks again. */
export const DEFAULT_GC_GRACE_SECONDS = 86_400;
/** 16 MiB: four times the chunker's 4 MiB maximum; a bigger body is refused before it is read. */
export const DEFAULT_MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** 131,072 chunks: at least 64 GiB at the smallest default chunk, about 150 GiB on average. */
export const DEFAULT_MAX_MANIFEST_CHUNKS = 131_072;
/** 1 MiB: logins, tokens, users, commits and tags are small. */
export const DEFAULT_MAX_JSON_BODY_BYTES = 1024 * 1024;
/** 1,000 machines pending approval cover a large roll-out. */
export const DEFAULT_MAX_PENDING_MACHINES = 1000;
/** 30 registrations a minute from one address cover a rack booting behind one NAT address. */
export const DEFAULT_REGISTRATIONS_PER_MINUTE = 30;
/** A report from a working agent at least every 10 s. */
export const DEFAULT_HEARTBEAT_SECONDS = 10;
/** Five minutes without a report: the agent is lost. */
export const DEFAULT_AGENT_TIMEOUT_SECONDS = 300;
/**
 * Ten minutes from the boot script to the agent's first report: the deploy environment fetched
 * (many machines at once share the link), Linux started, the network up again.
 */
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 600;

export interface ServerFlags {
  readonly config?: string | undefined;
  readonly data?: string | undefined;
  readonly listen?: string | undefined;
  readonly share?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  readonly bootListen?: string | undefined;
}

/** 'HOST:PORT' (IPv6 as [::1]:PORT) → host and port; port 0 = any free port. */
export function parseListen(value: string, where = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) {
    throw new AppError('INVALID_ARGUMENT', `${where}: expected HOST:PORT (port 0-65535), found '${value}'`, {
      hint: 'e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080; port 0 picks a free port',
    });
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

/** The embedded catalog and blobs, under the data directory. */
const CATALOG_FILE = 'catalog.sqlite';
const BLOBS_DIR = 'blobs';
/** The deployment share's default place, under the data directory. */
export const SHARE_DIR = 'share';
/** Where the pipable WIMs of multicast sessions are written while they are sent. */
const MULTICAST_DIR = 'multicast';
/** Where the builds the server runs are kept. */
const BUILDS_DIR = 'builds';

/** The settings of a data directory used with the embedded defaults. */
export function embeddedSettings(data: string): ServerSettings {
  const dir = resolve(data);
  const { host, port } = parseListen(DEFAULT_LISTEN);
  return {
    data: dir,
    host,
    port,
    catalog: { kind: 'sqlite', path: join(dir, CATALOG_FILE) },
    blobs: { kind: 'fs', path: join(dir, BLOBS_DIR) },
    gcGraceSeconds: DEFAULT_GC_GRACE_SECONDS,
    maxChunkBytes: DEFAULT_MAX_CHUNK_BYTES,
    maxManifestChunks: DEFAULT_MAX_MANIFEST_CHUNKS,
    maxJsonBodyBytes: DEFAULT_MAX_JSON_BODY_BYTES,
    maxPendingMachines: DEFAULT_MAX_PENDING_MACHINES,
    registrationsPerMinute: DEFAULT_REGISTRATIONS_PER_MINUTE,
    chunking: null,
    secretsKeyEnv: null,
    heartbeatSeconds: DEFAULT_HEARTBEAT_SECONDS,
    agentTimeoutSeconds: DEFAULT_AGENT_TIMEOUT_SECONDS,
    bootTimeoutSeconds: DEFAULT_BOOT_TIMEOUT_SECONDS,
    share: join(dir, SHARE_DIR),
    uefiChain: 'auto',
    multicast: { ...DEFAULT_MULTICAST, workDir: join(dir, MULTICAST_DIR) },
    builds: { dir: join(dir, BUILDS_DIR), max: DEFAULT_MAX_BUILDS, accelerator: 'auto' },
    logLevel: 'info',
    metrics: { token: null, allow: DEFAULT_METRICS_ALLOW },
    tls: null,
    bootListen: null,
  };
}

/** The settings that are whole numbers. */
type NumberSetting = {
  [K in keyof ServerSettings]: ServerSettings[K] extends number ? K : never;
}[keyof ServerSettings];

/** The keys of the config's `gc:` section, and the setting each sets. */
const GC_SETTINGS = { graceSeconds: 'gcGraceSeconds' } as const satisfies Record<string, NumberSetting>;

/** The keys of the config's `limits:` section, and the setting each sets. */
const LIMIT_SETTINGS = {
  maxChunkBytes: 'maxChunkBytes',
  manifestChunks: 'maxManifestChunks',
  jsonBodyBytes: 'maxJsonBodyBytes',
  pendingMachines: 'maxPendingMachines',
  registrationsPerMinute: 'registrationsPerMinute',
} as const satisfies Record<string, NumberSetting>;

/** The keys of the config's `deploy:` section, and the setting each sets. */
const DEPLOY_SETTINGS = {
  heartbeatSeconds: 'heartbeatSeconds',
  agentTimeoutSeconds: 'agentTimeoutSeconds',
  bootTimeoutSeconds: 'bootTimeoutSeconds',
} as const satisfies Record<string, NumberSetting>;

type YamlNode = YamlEntry['value'];

/** What the reader of each section is given. */
interface SectionContext {
  readonly input: YamlInput;
  readonly env: NodeJS.ProcessEnv;
  /** A path of the file made absolute: a relative one is relative to the file's directory. */
  readonly abs: (path: string) => string;
  /** The data directory (absolute): the SQLite catalog and the blobs default to places under it. */
  readonly data: string;
}

/** Reads one top-level section of the file into the settings it sets. */
type SectionReader = (node: YamlNode, ctx: SectionContext) => Partial<ServerSettings>;

function positiveInt(input: YamlInput, node: YamlNode, what: string): number {
  const v = input.scalar(node, what);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw input.error(
      node,
      `${what} must be a whole number ≥ 0, found ${String(v)}`,
      `give ${what} as a number`,
    );
  }
  return v;
}

/**
 * The fields of one section: a mapping whose keys must all be in `keys`. Each field is named
 * `section.key` in messages; a missing required one is an error at the section itself.
 */
class SectionFields {
  readonly node: YamlNode;
  readonly entries: readonly YamlEntry[];
  readonly #ctx: SectionContext;
  readonly #what: string;
  readonly #missingHint: (key: string) => string;

  constructor(
    ctx: SectionContext,
    node: YamlNode,
    what: string,
    keys: readonly string[],
    missingHint = (key: string) => `add ${key}: … under ${what}`,
  ) {
    this.node = node;
    this.entries = ctx.input.mapOf(node, what, keys);
    this.#ctx = ctx;
    this.#what = what;
    this.#missingHint = missingHint;
  }

  /** The value of `key`: undefined when the key is absent, null when it has no value. */
  value(key: string): YamlNode | undefined {
    return this.entries.find((e) => e.key === key)?.value;
  }

  /** The text of `key`, undefined when the key is absent. */
  optional(key: string): string | undefined {
    const value = this.value(key);
    return value === undefined ? undefined : this.#ctx.input.string(value, `${this.#what}.${key}`);
  }

  /** The text of `key`, else `fallback`; without a fallback the key is required. */
  string(key: string, fallback?: string): string {
    const text = this.optional(key) ?? fallback;
    if (text === undefined) throw this.#missing(key);
    return text;
  }

  /** A path made absolute (relative to the file's directory), else `fallback`. */
  path(key: string, fallback: string): string {
    const path = this.optional(key);
    return path === undefined ? fallback : this.#ctx.abs(path);
  }

  /** The environment variable named by `key` (else by `fallback`): undefined when unset or unnamed. */
  variable(key: string, fallback?: string): string | undefined {
    const name = this.optional(key) ?? fallback;
    return name === undefined ? undefined : this.#ctx.env[name];
  }

  /** A required whole number ≥ 0. */
  wholeNumber(key: string): number {
    const value = this.value(key);
    if (value === undefined) throw this.#missing(key);
    return positiveInt(this.#ctx.input, value, `${this.#what}.${key}`);
  }

  /** An error placed at the section. */
  error(message: string, hint: string): AppError {
    return this.#ctx.input.error(this.node, message, hint);
  }

  #missing(key: string): AppError {
    return this.error(`${this.#what} needs ${key}`, this.#missingHint(key));
  }
}

/** A section whose `kind:` key chooses how the rest of it is read. */
interface KindSection<T> {
  readonly what: string;
  /** The keys the section accepts, whatever its kind (a key another kind reads is ignored). */
  readonly keys: readonly string[];
  /** Each kind's reader, in the order the kinds are named in messages. */
  readonly kinds: Readonly<Record<string, (f: SectionFields, ctx: SectionContext) => T>>;
  /** Reads the kind itself; by default a required field (`blobs needs kind`). */
  readonly readKind?: (f: SectionFields, ctx: SectionContext) => string;
}

/** Reads a section with a `kind:` key through the reader of that kind. */
function readKindSection<T>(node: YamlNode, ctx: SectionContext, section: KindSection<T>): T {
  const f = new SectionFields(ctx, node, section.what, section.keys);
  const kind = section.readKind?.(f, ctx) ?? f.string('kind');
  const read = Object.hasOwn(section.kinds, kind) ? section.kinds[kind] : undefined;
  if (read === undefined) {
    const kinds = Object.keys(section.kinds);
    throw ctx.input.error(
      f.value('kind') ?? node,
      `${section.what}.kind must be ${kinds.join(' or ')}, found '${kind}'`,
      `write ${kinds.map((k) => `kind: ${k}`).join(' or ')}`,
    );
  }
  return read(f, ctx);
}

const CATALOG_SECTION: KindSection<CatalogSettings> = {
  what: 'catalog',
  keys: ['kind', 'path', 'url', 'urlEnv'],
  kinds: {
    sqlite: (f, ctx) => ({ kind: 'sqlite', path: f.path('path', join(ctx.data, CATALOG_FILE)) }),
    postgres: readPostgresCatalog,
  },
  // An absent kind reads as a kind of no value: `catalog.kind must be a string, found nothing`,
  // placed at the file's start (where YamlInput places a missing node).
  readKind: (f, ctx) => ctx.input.string(f.value('kind') ?? null, 'catalog.kind'),
};

const BLOBS_SECTION: KindSection<BlobSettings> = {
  what: 'blobs',
  keys: ['kind', 'path', 'endpoint', 'bucket', 'region', 'prefix', 'accessKeyIdEnv', 'secretAccessKeyEnv'],
  kinds: {
    fs: (f, ctx) => ({ kind: 'fs', path: f.path('path', join(ctx.data, BLOBS_DIR)) }),
    s3: readS3Blobs,
  },
};

/** The URL given as `url`, else read from the variable `urlEnv` names. */
function readPostgresCatalog(f: SectionFields): CatalogSettings {
  const url = f.optional('url') ?? f.variable('urlEnv');
  if (url === undefined || url === '') {
    throw f.error(
      'catalog of kind postgres needs url (or urlEnv naming a set variable)',
      'e.g. url: postgres://winsmith@db.example/winsmith',
    );
  }
  return { kind: 'postgres', url };
}

/** The bucket's place, and the keys read from the variables named (by default AWS's own). */
function readS3Blobs(f: SectionFields): BlobSettings {
  const accessKeyId = f.variable('accessKeyIdEnv', 'AWS_ACCESS_KEY_ID') ?? '';
  const secretAccessKey = f.variable('secretAccessKeyEnv', 'AWS_SECRET_ACCESS_KEY') ?? '';
  return {
    kind: 's3',
    endpoint: f.string('endpoint'),
    bucket: f.string('bucket'),
    region: f.string('region', 'us-east-1'),
    prefix: f.string('prefix', ''),
    accessKeyId,
    secretAccessKey,
  };
}

function readListen(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  return parseListen(ctx.input.string(node, 'listen'), ctx.input.where(node));
}

function readCatalog(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  return { catalog: readKindSection(node, ctx, CATALOG_SECTION) };
}

function readBlobs(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  return { blobs: readKindSection(node, ctx, BLOBS_SECTION) };
}

/** A section of whole numbers, each key setting one setting (in file order). */
function readNumbers(
  node: YamlNode,
  ctx: SectionContext,
  what: string,
  settings: Readonly<Record<string, NumberSetting>>,
): Partial<ServerSettings> {
  const f = new SectionFields(ctx, node, what, Object.keys(settings));
  const read: Partial<Record<NumberSetting, number>> = {};
  for (const { key } of f.entries) {
    const setting = settings[key];
    if (setting !== undefined) read[setting] = f.wholeNumber(key);
  }
  return read;
}

function readGc(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  return readNumbers(node, ctx, 'gc', GC_SETTINGS);
}

function readLimits(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  return readNumbers(node, ctx, 'limits', LIMIT_SETTINGS);
}

function readChunking(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  const sizes = ['minSize', 'avgSize', 'maxSize'];
  const f = new SectionFields(ctx, node, 'chunking', sizes, () => 'give minSize, avgSize and maxSize');
  const c = {
    minSize: f.wholeNumber('minSize'),
    avgSize: f.wholeNumber('avgSize'),
    maxSize: f.wholeNumber('maxSize'),
  };
  if (!(c.minSize > 0 && c.minSize <= c.avgSize && c.avgSize <= c.maxSize)) {
    throw f.error(
      `chunking sizes must satisfy 0 < minSize ≤ avgSize ≤ maxSize, found ${c.minSize}/${c.avgSize}/${c.maxSize}`,
      'fix the three sizes',
    );
  }
  return { chunking: c };
}

function readSecrets(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  return { secretsKeyEnv: new SectionFields(ctx, node, 'secrets', ['keyEnv']).string('keyEnv') };
}

function readDeploy(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  return readNumbers(node, ctx, 'deploy', DEPLOY_SETTINGS);
}

/** The keys of the config's `multicast:` section that are whole numbers. */
const MULTICAST_NUMBERS = [
  'portBase',
  'minReceivers',
  'maxWaitSeconds',
  'maxBitsPerSecond',
  'retriesUntilDrop',
  'receiveTimeoutSeconds',
] as const;

function readMulticast(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  const f = new SectionFields(ctx, node, 'multicast', [
    'interface',
    'netns',
    'addresses',
    'workDir',
    ...MULTICAST_NUMBERS,
  ]);
  const numbers: Partial<Record<(typeof MULTICAST_NUMBERS)[number], number>> = {};
  for (const key of MULTICAST_NUMBERS) if (f.value(key) !== undefined) numbers[key] = f.wholeNumber(key);
  if (numbers.portBase !== undefined && (numbers.portBase % 2 !== 0 || numbers.portBase < 1024)) {
    throw f.error(
      `multicast.portBase must be an even port ≥ 1024, found ${numbers.portBase}`,
      'udpcast uses the port given and the next one: give an even number such as 9000',
    );
  }
  const defaults = { ...DEFAULT_MULTICAST, workDir: join(ctx.data, MULTICAST_DIR) };
  return {
    multicast: {
      ...defaults,
      ...numbers,
      interface: f.optional('interface') ?? null,
      netns: f.optional('netns') ?? null,
      addresses: f.string('addresses', defaults.addresses),
      workDir: f.path('workDir', defaults.workDir),
    },
  };
}

function readShare(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  return { share: ctx.abs(ctx.input.string(node, 'share')) };
}

function readBoot(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  const f = new SectionFields(ctx, node, 'boot', ['uefiChain', 'listen']);
  const listen = f.value('listen');
  const bootListen =
    listen === undefined
      ? {}
      : { bootListen: parseListen(ctx.input.string(listen, 'boot.listen'), ctx.input.where(listen)) };
  const value = f.value('uefiChain');
  if (value === undefined) return bootListen;
  const chain = f.string('uefiChain');
  const found = UEFI_CHAIN_SETTINGS.find((c) => c === chain);
  if (found === undefined) {
    throw ctx.input.error(
      value,
      `boot.uefiChain must be ${UEFI_CHAIN_SETTINGS.join(', ')}, found '${chain}'`,
      'write uefiChain: auto (shim for machines that report Secure Boot on), shim or ipxe',
    );
  }
  return { ...bootListen, uefiChain: found };
}

function readTls(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  const f = new SectionFields(ctx, node, 'tls', ['cert', 'key'], () => 'give both cert: FILE and key: FILE');
  return { tls: { cert: ctx.abs(f.string('cert')), key: ctx.abs(f.string('key')) } };
}

function readBuilds(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  const f = new SectionFields(ctx, node, 'builds', ['dir', 'max', 'accelerator']);
  const max = f.value('max') === undefined ? DEFAULT_MAX_BUILDS : f.wholeNumber('max');
  if (max < 1)
    throw ctx.input.error(f.value('max') ?? node, 'builds.max must be at least 1, found 0', 'give 1 or more');
  const accelerator = f.string('accelerator', 'auto');
  const found = BUILD_ACCELERATORS.find((a) => a === accelerator);
  if (found === undefined) {
    throw ctx.input.error(
      f.value('accelerator') ?? node,
      `builds.accelerator must be ${BUILD_ACCELERATORS.join(', ')}, found '${accelerator}'`,
      'auto uses KVM when a VM starts with it, TCG otherwise',
    );
  }
  return { builds: { dir: f.path('dir', join(ctx.data, BUILDS_DIR)), max, accelerator: found } };
}

const LOG_LEVEL_HINT = 'info logs requests and services; debug adds dropped packets and more';

function logLevelMessage(where: string, value: string): string {
  return `${where} must be ${LOG_LEVELS.join(', ')}, found '${value}'`;
}

/** A log level given on the command line (`where` names the flag). */
export function parseLogLevel(value: string, where: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) {
    throw new AppError('INVALID_ARGUMENT', logLevelMessage(where, value), { hint: LOG_LEVEL_HINT });
  }
  return level;
}

function readLog(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  const f = new SectionFields(ctx, node, 'log', ['level']);
  const value = f.value('level');
  if (value === undefined) return {};
  const text = f.string('level');
  const level = LOG_LEVELS.find((l) => l === text);
  if (level === undefined) throw ctx.input.error(value, logLevelMessage('log.level', text), LOG_LEVEL_HINT);
  return { logLevel: level };
}

/** An entry of metrics.allow: one address (prefix null) or a CIDR network, as node:net's BlockList takes it. */
export interface AllowedNetwork {
  readonly address: string;
  readonly prefix: number | null;
  readonly type: 'ipv4' | 'ipv6';
}

/** `text` as an address or a CIDR network (prefix at most 32 for IPv4, 128 for IPv6); null otherwise. */
export function parseAllowedNetwork(text: string): AllowedNetwork | null {
  const [address = '', prefix, extra] = text.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return null;
  const type = version === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) return { address, prefix: null, type };
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  return bits <= (version === 4 ? 32 : 128) ? { address, prefix: bits, type } : null;
}

function readMetrics(node: YamlNode, ctx: SectionContext): Partial<ServerSettings> {
  const f = new SectionFields(ctx, node, 'metrics', ['tokenEnv', 'allow']);
  const allowNode = f.value('allow');
  const allow =
    allowNode === undefined
      ? [...DEFAULT_METRICS_ALLOW]
      : ctx.input.seq(allowNode, 'metrics.allow').map((item) => {
          const text = ctx.input.string(item, 'metrics.allow');
          if (parseAllowedNetwork(text) === null) {
            throw ctx.input.error(
              item,
              `metrics.allow: expected an address or a network such as 10.0.0.0/8, found '${text}'`,
              'list the addresses of the Prometheus servers that scrape this server',
            );
          }
          return text;
        });
  const tokenEnv = f.optional('tokenEnv');
  const token = tokenEnv === undefined ? undefined : ctx.env[tokenEnv];
  if (tokenEnv !== undefined && (token === undefined || token === '')) {
    throw f.error(
      `metrics.tokenEnv names ${tokenEnv}, which is not set`,
      `set ${tokenEnv} in the server's environment (e.g. EnvironmentFile= of its systemd unit)`,
    );
  }
  return { metrics: { token: token ?? null, allow } };
}

/** The reader of each top-level section but `data` (read first: the defaults lie under it). */
const SECTIONS = {
  listen: readListen,
  catalog: readCatalog,
  blobs: readBlobs,
  gc: readGc,
  limits: readLimits,
  chunking: readChunking,
  secrets: readSecrets,
  deploy: readDeploy,
  share: readShare,
  boot: readBoot,
  multicast: readMulticast,
  builds: readBuilds,
  log: readLog,
  metrics: readMetrics,
  tls: readTls,
} as const satisfies Record<string, SectionReader>;

const TOP_KEYS = ['data', ...Object.keys(SECTIONS)];

/** A config's top-level entries and the data directory it names (the default when it names none). */
function readTopLevel(text: string, file: string, env: NodeJS.ProcessEnv) {
  const input = YamlInput.parse(text, file);
  const base = dirname(resolve(file));
  const abs = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const entries = input.root === null ? [] : input.mapOf(input.root, 'the server config', TOP_KEYS);
  const data = entries.find((e) => e.key === 'data');
  const dataDir = abs(
    data === undefined ? (systemdDataDir(env) ?? DEFAULT_DATA_DIR) : input.string(data.value, 'data'),
  );
  return { input, abs, entries, dataDir };
}

/**
 * The data directory a server config names, the other sections left unread: what the service
 * installer needs, without the secrets their variables hold in the server's environment only.
 */
export function configuredDataDir(text: string, file: string, env: NodeJS.ProcessEnv = {}): string {
  return readTopLevel(text, file, env).dataDir;
}

/** Reads settings from YAML text; relative paths are relative to the file's directory. */
export function parseServerSettings(text: string, file: string, env: NodeJS.ProcessEnv = {}): ServerSettings {
  const { input, abs, entries, dataDir } = readTopLevel(text, file, env);
  let settings = embeddedSettings(dataDir);
  const ctx: SectionContext = { input, env, abs, data: settings.data };
  for (const { key, value } of entries) {
    if (key !== 'data') settings = { ...settings, ...SECTIONS[key as keyof typeof SECTIONS](value, ctx) };
  }
  return settings;
}

/** Settings for `winsmith server`: file (if any), then environment, then flags. */
export async function loadServerSettings(
  flags: ServerFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServerSettings> {
  let settings: ServerSettings;
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.config, 'utf8');
    } catch (e) {
      throw new AppError('FILE_NOT_FOUND', `config file ${flags.config} cannot be read`, {
        hint: 'check the path given with --config',
        cause: e,
      });
    }
    settings = parseServerSettings(text, flags.config, env);
  } else {
    settings = embeddedSettings(env.WINSMITH_DATA ?? systemdDataDir(env) ?? DEFAULT_DATA_DIR);
  }
  const data = flags.data;
  if (data !== undefined) {
    const moved = embeddedSettings(data);
    settings = {
      ...settings,
      data: moved.data,
      catalog: settings.catalog.kind === 'sqlite' ? moved.catalog : settings.catalog,
      blobs: settings.blobs.kind === 'fs' ? moved.blobs : settings.blobs,
      share: settings.share === join(settings.data, SHARE_DIR) ? moved.share : settings.share,
      builds:
        settings.builds.dir === join(settings.data, BUILDS_DIR)
          ? { ...settings.builds, dir: moved.builds.dir }
          : settings.builds,
      multicast:
        settings.multicast.workDir === join(settings.data, MULTICAST_DIR)
          ? { ...settings.multicast, workDir: moved.multicast.workDir }
          : settings.multicast,
    };
  }
  if (flags.share !== undefined) settings = { ...settings, share: resolve(flags.share) };
  if (flags.logLevel !== undefined)
    settings = { ...settings, logLevel: parseLogLevel(flags.logLevel, '--log-level') };
  const listen = flags.listen ?? (flags.config === undefined ? env.WINSMITH_LISTEN : undefined);
  if (listen !== undefined) settings = { ...settings, ...parseListen(listen) };
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new AppError(
      'USAGE',
      `${flags.tlsCert === undefined ? '--tls-key' : '--tls-cert'} is given alone`,
      {
        hint: 'give both --tls-cert FILE and --tls-key FILE',
      },
    );
  }
  if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) {
    settings = { ...settings, tls: { cert: resolve(flags.tlsCert), key: resolve(flags.tlsKey) } };
  }
  if (flags.bootListen !== undefined) {
    settings = { ...settings, bootListen: parseListen(flags.bootListen, '--boot-listen') };
  }
  return settings;
}

/** Settings with secrets replaced, for logs and `--json` output. */
export function redactSettings(s: ServerSettings): unknown {
  return {
    ...s,
    catalog:
      s.catalog.kind === 'postgres' ? { kind: 'postgres', url: stripCredentials(s.catalog.url) } : s.catalog,
    blobs: s.blobs.kind === 's3' ? { ...s.blobs, accessKeyId: '***', secretAccessKey: '***' } : s.blobs,
    metrics: { ...s.metrics, token: s.metrics.token === null ? null : '***' },
  };
}

/** A URL with user and password removed (for messages and logs); other text unchanged. */
export function stripCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
}
