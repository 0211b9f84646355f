// Settings of `winsmith server` and of a repository opened on a data directory: embedded defaults
// (SQLite catalog and blobs on the filesystem under the data directory), overridden by a YAML file
// (--config), then by the environment (WINSMITH_DATA, WINSMITH_LISTEN), then by flags. Errors in the
// file name FILE:LINE:COLUMN (src/config/yaml-input.ts).

import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../core/errors.ts';
import { YamlInput } from './yaml-input.ts';

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
}

export const DEFAULT_DATA_DIR = './winsmith-data';
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

export interface ServerFlags {
  readonly config?: string | undefined;
  readonly data?: string | undefined;
  readonly listen?: string | undefined;
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

/** The settings of a data directory used with the embedded defaults. */
export function embeddedSettings(data: string): ServerSettings {
  const dir = resolve(data);
  const { host, port } = parseListen(DEFAULT_LISTEN);
  return {
    data: dir,
    host,
    port,
    catalog: { kind: 'sqlite', path: join(dir, 'catalog.sqlite') },
    blobs: { kind: 'fs', path: join(dir, 'blobs') },
    gcGraceSeconds: DEFAULT_GC_GRACE_SECONDS,
    maxChunkBytes: DEFAULT_MAX_CHUNK_BYTES,
    maxManifestChunks: DEFAULT_MAX_MANIFEST_CHUNKS,
    maxJsonBodyBytes: DEFAULT_MAX_JSON_BODY_BYTES,
    maxPendingMachines: DEFAULT_MAX_PENDING_MACHINES,
    registrationsPerMinute: DEFAULT_REGISTRATIONS_PER_MINUTE,
    chunking: null,
  };
}

const TOP_KEYS = ['data', 'listen', 'catalog', 'blobs', 'gc', 'limits', 'chunking'] as const;

/** The keys of the config's `limits:` section, and the setting each sets. */
const LIMIT_SETTINGS = {
  maxChunkBytes: 'maxChunkBytes',
  manifestChunks: 'maxManifestChunks',
  jsonBodyBytes: 'maxJsonBodyBytes',
  pendingMachines: 'maxPendingMachines',
  registrationsPerMinute: 'registrationsPerMinute',
} as const satisfies Record<string, keyof ServerSettings>;

function positiveInt(input: YamlInput, node: Parameters<YamlInput['scalar']>[0], what: string): number {
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

/** Reads settings from YAML text; relative paths are relative to the file's directory. */
export function parseServerSettings(text: string, file: string, env: NodeJS.ProcessEnv = {}): ServerSettings {
  const input = YamlInput.parse(text, file);
  const base = dirname(resolve(file));
  const abs = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  let settings: ServerSettings = embeddedSettings(abs(DEFAULT_DATA_DIR));
  if (input.root === null) return settings;
  const entries = input.mapOf(input.root, 'the server config', TOP_KEYS);
  const find = (key: string) => entries.find((e) => e.key === key);
  const dataEntry = find('data');
  if (dataEntry !== undefined) settings = embeddedSettings(abs(input.string(dataEntry.value, 'data')));
  let next: {
    -readonly [K in keyof ServerSettings]: ServerSettings[K];
  } = { ...settings };
  for (const e of entries) {
    switch (e.key) {
      case 'listen': {
        const listen = parseListen(input.string(e.value, 'listen'), input.where(e.value));
        next = { ...next, ...listen };
        break;
      }
      case 'catalog': {
        const fields = input.mapOf(e.value, 'catalog', ['kind', 'path', 'url', 'urlEnv']);
        const get = (k: string) => fields.find((f) => f.key === k);
        const kind = input.string(get('kind')?.value ?? null, 'catalog.kind');
        if (kind === 'sqlite') {
          const p = get('path');
          next.catalog = {
            kind: 'sqlite',
            path:
              p === undefined
                ? settings.catalog.kind === 'sqlite'
                  ? settings.catalog.path
                  : ''
                : abs(input.string(p.value, 'catalog.path')),
          };
        } else if (kind === 'postgres') {
          const url = get('url');
          const urlEnv = get('urlEnv');
          const value =
            url !== undefined
              ? input.string(url.value, 'catalog.url')
              : urlEnv !== undefined
                ? env[input.string(urlEnv.value, 'catalog.urlEnv')]
                : undefined;
          if (value === undefined || value === '') {
            throw input.error(
              e.value,
              'catalog of kind postgres needs url (or urlEnv naming a set variable)',
              'e.g. url: postgres://winsmith@db.example/winsmith',
            );
          }
          next.catalog = { kind: 'postgres', url: value };
        } else {
          throw input.error(
            get('kind')?.value ?? e.value,
            `catalog.kind must be sqlite or postgres, found '${kind}'`,
            'write kind: sqlite or kind: postgres',
          );
        }
        break;
      }
      case 'blobs': {
        const keys = [
          'kind',
          'path',
          'endpoint',
          'bucket',
          'region',
          'prefix',
          'accessKeyIdEnv',
          'secretAccessKeyEnv',
        ];
        const fields = input.mapOf(e.value, 'blobs', keys);
        const get = (k: string) => fields.find((f) => f.key === k);
        const str = (k: string, fallback?: string): string => {
          const f = get(k);
          if (f !== undefined) return input.string(f.value, `blobs.${k}`);
          if (fallback !== undefined) return fallback;
          throw input.error(e.value, `blobs needs ${k}`, `add ${k}: … under blobs`);
        };
        const kind = str('kind');
        if (kind === 'fs') {
          const p = get('path');
          next.blobs = {
            kind: 'fs',
            path: p === undefined ? join(next.data, 'blobs') : abs(input.string(p.value, 'blobs.path')),
          };
        } else if (kind === 's3') {
          const keyEnv = str('accessKeyIdEnv', 'AWS_ACCESS_KEY_ID');
          const secretEnv = str('secretAccessKeyEnv', 'AWS_SECRET_ACCESS_KEY');
          next.blobs = {
            kind: 's3',
            endpoint: str('endpoint'),
            bucket: str('bucket'),
            region: str('region', 'us-east-1'),
            prefix: str('prefix', ''),
            accessKeyId: env[keyEnv] ?? '',
            secretAccessKey: env[secretEnv] ?? '',
          };
        } else {
          throw input.error(
            get('kind')?.value ?? e.value,
            `blobs.kind must be fs or s3, found '${kind}'`,
            'write kind: fs or kind: s3',
          );
        }
        break;
      }
      case 'gc': {
        const fields = input.mapOf(e.value, 'gc', ['graceSeconds']);
        for (const f of fields) next.gcGraceSeconds = positiveInt(input, f.value, 'gc.graceSeconds');
        break;
      }
      case 'limits': {
        const fields = input.mapOf(e.value, 'limits', Object.keys(LIMIT_SETTINGS));
        for (const f of fields) {
          const setting = LIMIT_SETTINGS[f.key as keyof typeof LIMIT_SETTINGS];
          next[setting] = positiveInt(input, f.value, `limits.${f.key}`);
        }
        break;
      }
      case 'chunking': {
        const fields = input.mapOf(e.value, 'chunking', ['minSize', 'avgSize', 'maxSize']);
        const num = (k: string): number => {
          const f = fields.find((x) => x.key === k);
          if (f === undefined)
            throw input.error(e.value, `chunking needs ${k}`, 'give minSize, avgSize and maxSize');
          return positiveInt(input, f.value, `chunking.${k}`);
        };
        const c = { minSize: num('minSize'), avgSize: num('avgSize'), maxSize: num('maxSize') };
        if (!(c.minSize > 0 && c.minSize <= c.avgSize && c.avgSize <= c.maxSize)) {
          throw input.error(
            e.value,
            `chunking sizes must satisfy 0 < minSize ≤ avgSize ≤ maxSize, found ${c.minSize}/${c.avgSize}/${c.maxSize}`,
            'fix the three sizes',
          );
        }
        next.chunking = c;
        break;
      }
      default:
        break;
    }
  }
  return next;
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
    settings = embeddedSettings(env.WINSMITH_DATA ?? DEFAULT_DATA_DIR);
  }
  const data = flags.data;
  if (data !== undefined) {
    const moved = embeddedSettings(data);
    settings = {
      ...settings,
      data: moved.data,
      catalog: settings.catalog.kind === 'sqlite' ? moved.catalog : settings.catalog,
      blobs: settings.blobs.kind === 'fs' ? moved.blobs : settings.blobs,
    };
  }
  const listen = flags.listen ?? (flags.config === undefined ? env.WINSMITH_LISTEN : undefined);
  if (listen !== undefined) settings = { ...settings, ...parseListen(listen) };
  return settings;
}

/** Settings with secrets replaced, for logs and `--json` output. */
export function redactSettings(s: ServerSettings): unknown {
  return {
    ...s,
    catalog:
      s.catalog.kind === 'postgres' ? { kind: 'postgres', url: stripCredentials(s.catalog.url) } : s.catalog,
    blobs: s.blobs.kind === 's3' ? { ...s.blobs, accessKeyId: '***', secretAccessKey: '***' } : s.blobs,
  };
}

/** A URL with user and password removed (for messages and logs); other text unchanged. */
export function stripCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
}
