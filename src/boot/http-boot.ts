// HTTP boot: the routes iPXE talks to on the server's HTTP port (and on its plain boot listener).
//   GET /boot/ipxe?mac=&uuid=&serial=&manufacturer=&product=&buildarch=&platform=
//       the machine's iPXE script (query names: boot-url.ts). An unknown machine is registered with
//       the inventory iPXE sent and boots from its local disk; a known one without a deployment
//       boots from its local disk; one with a queued deployment starts the deploy environment
//       (once: its agent's token is made then); one whose deployment is under way boots local.
//   GET /boot/hello?mac=&nonce=   boot check-in: the script calls it back with the token of its
//       render, which proves the script ran on that machine; recorded as last seen (time, address).
//   GET|HEAD /boot/files/<name>   boot files with HTTP Range (src/formats/http-range.ts).
// The decisions are plain functions of (query, registry); the hono routes only carry them.

import type { BootCount } from './boot-log.ts';
import { isWildcardHost } from './interfaces.ts';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { AppError } from '../core/errors.ts';
import { openRegularFile } from '../io/regular-file.ts';
import { contentRange, parseRangeHeader } from '../formats/http-range.ts';
import { normalizeMac as normalizeCatalogMac } from '../core/names.ts';
import { BOOT_FILES_PATH, BOOT_HELLO_PATH, IPXE_SCRIPT_PATH, IPXE_SCRIPT_QUERY } from './boot-url.ts';
import type { IpxeScriptQueryName } from './boot-url.ts';
import { resolveBootFile, type BootFileSources } from './boot-files.ts';
import type { ScriptAction, ScriptDeployment } from './boot-action.ts';
import type { UefiChainSetting } from './boot-chain.ts';
import { renderIpxeScript } from './ipxe-script.ts';
import {
  DEFAULT_REGISTRATION_LIMITS,
  RegistrationGate,
  type RegistrationLimits,
  type RegistrationRefusal,
} from './registration-gate.ts';

/** What iPXE told us about the machine; strings as sent (length-limited, controls removed). */
export interface BootInventory {
  readonly serial: string | null;
  readonly manufacturer: string | null;
  readonly product: string | null;
  readonly buildarch: string | null;
  readonly platform: string | null;
}

export interface BootMachine {
  readonly mac: string;
  readonly uuid: string | null;
  readonly inventory: BootInventory;
  /** Id of its deployment under way, or null. */
  readonly deployment: string | null;
}

/** The machines store the boot routes need (the catalog implements it). */
export interface BootMachineRegistry {
  /** By MAC first, then by SMBIOS UUID (the same machine booting from another NIC). */
  findMachine(mac: string, uuid: string | null): Promise<BootMachine | null>;
  /** Records a machine seen for the first time, pending approval. */
  registerMachine(machine: Omit<BootMachine, 'deployment'>, at: Date): Promise<BootMachine>;
  /** Machines registered by booting and not yet approved. */
  countPending(): Promise<number>;
  /**
   * What the choice of a UEFI machine's chain rests on (boot-chain.ts): the setting of the profile
   * of its deployment under way (null: none) and its last reported Secure Boot state (null: none,
   * or no such machine).
   */
  uefiChainInputs(mac: string): Promise<{
    readonly profile: UefiChainSetting | null;
    readonly secureBoot: boolean | null;
  }>;
  /**
   * Starts the machine's queued deployment, once: its agent's new token. Null when the machine has
   * no deployment waiting to start.
   */
  startDeployment(mac: string): Promise<{ readonly deployment: string; readonly token: string } | null>;
  /** Whether the machine's deployment waits to start (queued). */
  isQueued(mac: string): Promise<boolean>;
  /** The machine asked for its script: inventory refreshed, last seen set. */
  recordScriptRequest(mac: string, inventory: BootInventory, at: Date): Promise<void>;
  /**
   * The machine's script ran and called back from `address` (with the Secure Boot state its
   * loader saw, when it can tell: GRUB can); false when no such machine is registered.
   */
  recordCheckIn(mac: string, address: string | null, at: Date, secureBoot?: boolean): Promise<boolean>;
}

/** The server's JSON logger, as the boot routes use it. */
export interface HttpBootLog {
  log(level: 'info', msg: string, fields: Readonly<Record<string, unknown>>): void;
  count?(event: BootCount): void;
}

export interface HttpBootOptions {
  readonly registry: BootMachineRegistry;
  readonly files: BootFileSources;
  /** Base URL clients reach this server at, put into scripts; default: the address each request came to. */
  readonly httpBase?: string | undefined;
  readonly log?: HttpBootLog | undefined;
  readonly now?: () => Date;
  /** How many unknown machines may register themselves (default DEFAULT_REGISTRATION_LIMITS). */
  readonly registration?: RegistrationLimits;
  /** The gate shared with the other boot route that registers machines; one of its own when absent. */
  readonly gate?: RegistrationGate;
  /**
   * The deploy environment's kernel and initrd, as boot files, once they are ready; null while
   * they are prepared (machines with a deployment wait and ask again). Absent: none is ever ready.
   */
  readonly deployEnvironment?: () => DeployEnvironmentFiles | null;
  /** The server's plain-HTTP boot listener, when it has one beside its HTTPS one (read per request). */
  readonly plainListener?: () => PlainListener | undefined;
}

/** The deploy environment as the boot files serve it. */
export interface DeployEnvironmentFiles {
  /** Boot file names (under /boot/files). */
  readonly kernel: string;
  readonly initrd: string;
  /** Its kernel command line for one deployment: the server's URL, the deployment and its agent's token. */
  commandLine(server: string, deployment: string, token: string): string;
}

/** Longest inventory string kept; SMBIOS strings are short, anything longer is cut. */
export const INVENTORY_TEXT_MAX = 256;
/** Check-in tokens kept waiting for their call back; the oldest is dropped past this. */
export const PENDING_CHECKINS_MAX = 4096;
/** A script's call back must come within this time of its render. */
export const CHECKIN_TTL_MS = 30 * 60 * 1000;

/**
 * `52-54-00-12-34-56` (iPXE hexhyp), `52:54:00:12:34:56` or `525400123456` → `52:54:00:12:34:56`
 * (the catalog's form); anything else → null.
 */
export function normalizeMac(value: string): string | null {
  try {
    return normalizeCatalogMac(value);
  } catch (e) {
    if (e instanceof AppError) return null;
    throw e;
  }
}

/**
 * iPXE's `${uuid}` (8-4-4-4-12 hex) → lower case; empty, malformed, or the all-zero / all-one
 * values SMBIOS uses for "not set" (SMBIOS 3.x §7.2.1) → null.
 */
export function normalizeUuid(value: string | undefined): string | null {
  if (value === undefined) return null;
  const uuid = value.trim().toLowerCase();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) return null;
  return /^[0-]+$/.test(uuid) || /^[f-]+$/.test(uuid) ? null : uuid;
}

function inventoryText(value: string | undefined): string | null {
  if (value === undefined) return null;
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const text = value.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (text === '') return null;
  return text.length > INVENTORY_TEXT_MAX ? text.slice(0, INVENTORY_TEXT_MAX) : text;
}

export type ScriptQuery = Partial<Record<IpxeScriptQueryName, string>>;

export type ScriptRequestError = { readonly ok: false; readonly status: 400; readonly message: string };
export type ParsedScriptRequest =
  | {
      readonly ok: true;
      readonly mac: string;
      readonly uuid: string | null;
      readonly inventory: BootInventory;
    }
  | ScriptRequestError;

/** Reads the /boot/ipxe query; only the MAC is required. */
export function parseScriptQuery(query: ScriptQuery): ParsedScriptRequest {
  const mac = query.mac === undefined ? null : normalizeMac(query.mac);
  if (mac === null) {
    return {
      ok: false,
      status: 400,
      message: `expected mac=<6 hex bytes> in the query, found ${JSON.stringify(query.mac ?? null)}`,
    };
  }
  return {
    ok: true,
    mac,
    uuid: normalizeUuid(query.uuid),
    inventory: {
      serial: inventoryText(query.serial),
      manufacturer: inventoryText(query.manufacturer),
      product: inventoryText(query.product),
      buildarch: inventoryText(query.buildarch),
      platform: inventoryText(query.platform),
    },
  };
}

export interface ScriptDecision {
  readonly machine: BootMachine;
  readonly registered: boolean;
  /** Why an unknown machine was not registered (it boots from its disk, unrecorded). */
  readonly refused: RegistrationRefusal | null;
  readonly action: ScriptAction;
  readonly script: string;
  readonly nonce: string | null;
}

/** A machine asking for its boot config, as the boot routes (iPXE) or TFTP (GRUB) read it. */
export interface BootRequest {
  readonly mac: string;
  readonly uuid: string | null;
  readonly inventory: BootInventory;
}

export interface BootResolution {
  readonly machine: BootMachine;
  readonly registered: boolean;
  /** Why an unknown machine was not registered (it boots from its disk, unrecorded). */
  readonly refused: RegistrationRefusal | null;
  readonly nonce: string | null;
  /** What its deployment asks of the boot config; null: none. */
  readonly deployment: ScriptDeployment | null;
}

export interface BootContext {
  readonly httpBase: string;
  readonly at: Date;
  readonly admit: () => Promise<RegistrationRefusal | null>;
  readonly issue: (mac: string) => string;
  /** Asked only for a machine with a deployment: asking starts preparing the environment. */
  readonly environment: () => DeployEnvironmentFiles | null;
}

/**
 * What any boot config of a machine is made of, whichever loader asks: find the machine, or
 * register it when `admit` lets it, record the request; a machine in the catalog gets a fresh
 * check-in token (`issue`), one refused registration none; and its deployment's step (starting
 * it, once, when the environment is ready).
 */
export async function resolveBoot(
  request: BootRequest,
  registry: BootMachineRegistry,
  context: BootContext,
): Promise<BootResolution> {
  const known = await registry.findMachine(request.mac, request.uuid);
  let machine: BootMachine;
  let refused: RegistrationRefusal | null = null;
  if (known !== null) {
    machine = known;
    await registry.recordScriptRequest(machine.mac, request.inventory, context.at);
  } else {
    refused = await context.admit();
    const seen = { mac: request.mac, uuid: request.uuid, inventory: request.inventory };
    machine =
      refused === null ? await registry.registerMachine(seen, context.at) : { ...seen, deployment: null };
  }
  const inCatalog = known !== null || refused === null;
  return {
    machine,
    registered: known === null && refused === null,
    refused,
    nonce: inCatalog ? context.issue(machine.mac) : null,
    deployment:
      machine.deployment === null
        ? null
        : await deploymentScript(
            { mac: machine.mac, deployment: machine.deployment },
            registry,
            context.httpBase,
            context.environment(),
          ),
  };
}

/** The whole /boot/ipxe decision: the machine resolved (resolveBoot), its iPXE script rendered. */
export async function decideScript(
  request: Extract<ParsedScriptRequest, { ok: true }>,
  registry: BootMachineRegistry,
  context: BootContext,
): Promise<ScriptDecision> {
  const resolved = await resolveBoot(request, registry, context);
  const rendered = renderIpxeScript(
    { mac: resolved.machine.mac, uuid: resolved.machine.uuid, platform: request.inventory.platform },
    { httpBase: context.httpBase, checkInNonce: resolved.nonce, deployment: resolved.deployment },
  );
  return {
    machine: resolved.machine,
    registered: resolved.registered,
    refused: resolved.refused,
    action: rendered.action,
    script: rendered.text,
    nonce: resolved.nonce,
  };
}

/**
 * Refused registrations, logged at most once a minute per reason with the number refused since
 * the last line: a flood is told of without flooding the log.
 */
class RefusalLog {
  readonly #log: HttpBootLog;
  readonly #last = new Map<RegistrationRefusal, { at: number; count: number }>();

  constructor(log: HttpBootLog) {
    this.#log = log;
  }

  note(reason: RegistrationRefusal, address: string | null, nowMs: number): void {
    const last = this.#last.get(reason);
    if (last !== undefined && nowMs - last.at < 60_000) {
      last.count++;
      return;
    }
    this.#last.set(reason, { at: nowMs, count: 0 });
    this.#log.log('info', 'machine registration refused', {
      reason,
      address,
      refusedSinceLastLine: last?.count ?? 0,
    });
  }
}

/**
 * What the script does for a machine's deployment: start the environment (once: this starts the
 * deployment and makes its agent's token), wait while the environment is prepared, or nothing
 * when the deployment is under way already.
 */
async function deploymentScript(
  machine: { readonly mac: string; readonly deployment: string },
  registry: BootMachineRegistry,
  httpBase: string,
  environment: DeployEnvironmentFiles | null,
): Promise<ScriptDeployment> {
  if (environment === null) {
    return (await registry.isQueued(machine.mac))
      ? { id: machine.deployment, kind: 'preparing' }
      : { id: machine.deployment, kind: 'under-way' };
  }
  const started = await registry.startDeployment(machine.mac);
  if (started === null) return { id: machine.deployment, kind: 'under-way' };
  return {
    id: started.deployment,
    kind: 'start',
    kernel: environment.kernel,
    initrd: environment.initrd,
    cmdline: environment.commandLine(httpBase.replace(/\/+$/, ''), started.deployment, started.token),
  };
}

/** Check-in tokens issued by renders, waiting for their call back (bounded, expiring). */
export class PendingCheckIns {
  readonly #tokens = new Map<string, { mac: string; expires: number }>();

  issue(mac: string, nowMs: number): string {
    const nonce = randomBytes(16).toString('hex');
    this.#tokens.set(nonce, { mac, expires: nowMs + CHECKIN_TTL_MS });
    if (this.#tokens.size > PENDING_CHECKINS_MAX) {
      const oldest = this.#tokens.keys().next();
      if (oldest.done !== true) this.#tokens.delete(oldest.value);
    }
    return nonce;
  }

  /** True once for a token issued to `mac` and not expired; the token is then spent. */
  redeem(nonce: string, mac: string, nowMs: number): boolean {
    const entry = this.#tokens.get(nonce);
    if (entry === undefined || entry.mac !== mac) return false;
    this.#tokens.delete(nonce);
    return entry.expires >= nowMs;
  }
}

/** The plain-HTTP listener machines are sent to when their request came over HTTPS. */
export interface PlainListener {
  /** Its address; a wildcard (0.0.0.0, ::) stands for the address the request arrived at. */
  readonly host: string;
  readonly port: number;
}

export function origin(scheme: 'http' | 'https', address: string, port: number): string {
  return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * The origin of the socket the request arrived on, which the machine can reach since it just did;
 * null without a socket. A request that came over HTTPS is sent to `plain` when the server has a
 * plain-HTTP boot listener (the deploy environment and Debian's iPXE speak plain HTTP), else to
 * https:// of its own arrival. The Host header is never used: it is whatever the caller wrote,
 * and a script that sent machines to it would send them where the caller chose.
 */
export function arrivalOrigin(c: Context, plain?: PlainListener): string | null {
  const socket = (
    c.env as
      | { incoming?: { socket?: { localAddress?: string; localPort?: number; encrypted?: boolean } } }
      | undefined
  )?.incoming?.socket;
  const address = socket?.localAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const port = socket?.localPort;
  if (address === undefined || port === undefined) return null;
  if (socket?.encrypted !== true) return origin('http', address, port);
  if (plain === undefined) return origin('https', address, port);
  return origin('http', isWildcardHost(plain.host) ? address : plain.host, plain.port);
}

function remoteAddress(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
}

/**
 * The /boot/ipxe query as iPXE sends it: `:uristring` percent-encodes but leaves `+` as is, so `+`
 * is a plus here (RFC 3986 decoding), not a space (form decoding, what c.req.query would do).
 */
export function scriptQueryOf(search: string): ScriptQuery {
  const names = new Set<string>(Object.keys(IPXE_SCRIPT_QUERY));
  const query: ScriptQuery = {};
  for (const pair of search.replace(/^\?/, '').split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (!names.has(name) || name in query) continue;
    const raw = eq < 0 ? '' : pair.slice(eq + 1);
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      value = raw;
    }
    query[name as IpxeScriptQueryName] = value;
  }
  return query;
}

/** The boot routes, to mount on the server's app (`app.route('/', httpBootRoutes(...))`). */
export function httpBootRoutes(options: HttpBootOptions): Hono {
  const app = new Hono();
  const pending = new PendingCheckIns();
  const now = options.now ?? (() => new Date());
  const log = options.log ?? { log: () => undefined };
  const gate = options.gate ?? new RegistrationGate(options.registration ?? DEFAULT_REGISTRATION_LIMITS);
  const refusals = new RefusalLog(log);
  const plain = { 'content-type': 'text/plain; charset=utf-8' };

  app.get(IPXE_SCRIPT_PATH, async (c) => {
    const parsed = parseScriptQuery(scriptQueryOf(new URL(c.req.url).search));
    if (!parsed.ok) return c.body(`${parsed.message}\n`, parsed.status, plain);
    const at = now();
    const httpBase = options.httpBase ?? arrivalOrigin(c, options.plainListener?.());
    if (httpBase === null) {
      return c.body('the server cannot tell the address this request came to: set --boot-url\n', 500, plain);
    }
    const address = remoteAddress(c);
    const decision = await decideScript(parsed, options.registry, {
      httpBase,
      at,
      admit: () => gate.admit(address, at.getTime(), () => options.registry.countPending()),
      issue: (mac) => pending.issue(mac, at.getTime()),
      environment: () => options.deployEnvironment?.() ?? null,
    });
    if (decision.refused === null) {
      log.count?.({ counter: 'boot-script', loader: 'ipxe' });
      log.log('info', 'boot script', {
        mac: decision.machine.mac,
        uuid: decision.machine.uuid,
        registered: decision.registered,
        action: decision.action,
        nonce: decision.nonce,
        address,
      });
    } else {
      refusals.note(decision.refused, address, at.getTime());
    }
    return c.body(decision.script, 200, plain);
  });

  app.get(BOOT_HELLO_PATH, async (c) => {
    const mac = normalizeMac(c.req.query('mac') ?? '');
    const nonce = c.req.query('nonce') ?? '';
    const at = now();
    if (mac === null || !pending.redeem(nonce, mac, at.getTime())) {
      return c.body('no boot script was issued with this nonce for this MAC\n', 404, plain);
    }
    const address = remoteAddress(c);
    if (!(await options.registry.recordCheckIn(mac, address, at))) {
      return c.body('no machine is registered with this MAC\n', 404, plain);
    }
    log.log('info', 'boot check-in', { mac, nonce, address });
    return c.body('#!ipxe\necho winsmith: checked in\n', 200, plain);
  });

  const serveFile = async (c: Context, head: boolean): Promise<Response> => {
    const name = c.req.param('name') ?? '';
    const path = await resolveBootFile(name, options.files);
    // One opening: the size announced and the bytes sent are the same file's, even when the file is
    // replaced meanwhile (installBootFiles renames a new copy over it). Only a regular file is
    // served, checked on the opened descriptor; a FIFO or a device is never waited on.
    const opened = path === null ? null : await openRegularFile(path);
    if (opened === null || !opened.ok) {
      return c.body(`no boot file ${JSON.stringify(name)}\n`, 404, plain);
    }
    const { handle, size } = opened;
    const range = parseRangeHeader(c.req.header('range'), size);
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
    };
    if (range === 'unsatisfiable') {
      await handle.close();
      return c.body(null, 416, { ...headers, 'content-range': contentRange(null, size) });
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    headers['content-length'] = String(end - start + 1);
    if (range !== null) headers['content-range'] = contentRange(range, size);
    const status = range === null ? 200 : 206;
    log.log('info', 'boot file', { name, start, end, size, address: remoteAddress(c) });
    if (head || size === 0) {
      await handle.close();
      return c.body(null, status, headers);
    }
    // The stream closes the file when it ends, fails or is cancelled by the client.
    const stream = Readable.toWeb(handle.createReadStream({ start, end })) as ReadableStream<Uint8Array>;
    return c.body(stream, status, headers);
  };
  app.get(`${BOOT_FILES_PATH}/:name`, (c) => serveFile(c, false));
  app.on('HEAD', `${BOOT_FILES_PATH}/:name`, (c) => serveFile(c, true));
  return app;
}
