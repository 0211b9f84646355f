// GRUB's side of network boot under Secure Boot, served over TFTP (grub-config.ts says why not
// HTTP): the files GRUB asks for under grub/winsmith/ are made up per request — a machine's
// config (found or registered by MAC, as /boot/ipxe does, with its deployment's step) and the
// check-in its config sends back with a token of the render and GRUB's `lockdown`, recorded as
// the machine's Secure Boot state. TFTP is unauthenticated UDP: a machine's answer is kept a short
// while by client address and name, so that a request sent again (GRUB retries a read whose first
// packet is late) gets the same config, and does not see its own deployment "under way". A machine
// that asks DHCP again has started another boot, whose reads are new ones: its answers kept go
// then. (GRUB's UDP ports are the same in every boot, so a new boot's read of its config is
// otherwise the same request as the last boot's; an operator who deploys to a machine and
// restarts it at once would have it given its last boot's answer, "no deployment".)

import type { HttpBootLog, BootMachineRegistry, DeployEnvironmentFiles } from './http-boot.ts';
import { PendingCheckIns, resolveBoot } from './http-boot.ts';
import { GRUB_CHECKED_IN, parseGrubRequest, renderGrubConfig, type GrubRequest } from './grub-config.ts';
import {
  DEFAULT_REGISTRATION_LIMITS,
  RegistrationGate,
  type RegistrationLimits,
} from './registration-gate.ts';
import type { TftpMadeFiles } from './tftp-path.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long an answer is given again to the same client and name. */
export const GRUB_ANSWER_TTL_MS = 10_000;
/** Answers kept at most; the oldest is dropped past this. */
export const GRUB_ANSWERS_MAX = 1024;
/**
 * While the deploy environment is prepared, how long a machine's config is held before it is
 * answered "preparing" (the deploy config as soon as the environment is ready), which GRUB asks
 * for again at once: the server paces the asking, not GRUB's `sleep`. GRUB measures time by the
 * TSC, calibrated over a millisecond as it starts; a VM descheduled then (TCG on a busy host)
 * has its GRUB's clock run several times slow (a `sleep 15` lasted 81 s). Well within the some
 * 30 s GRUB waits for a read's first packet.
 */
export const GRUB_PREPARING_HOLD_MS = 10_000;
/** How often a held config looks whether the environment is ready. */
const PREPARING_POLL_MS = 250;

export interface GrubBootOptions {
  readonly registry: BootMachineRegistry;
  /**
   * The server's HTTP base URL as machines reach it (the agent's command line); null: unknown. A
   * function is asked at each request (the boot interface's address may appear after the start).
   */
  readonly httpBase: string | null | (() => string | null);
  readonly log?: HttpBootLog | undefined;
  readonly now?: () => Date;
  readonly registration?: RegistrationLimits;
  /** The gate shared with the other boot route that registers machines; one of its own when absent. */
  readonly gate?: RegistrationGate;
  readonly deployEnvironment?: () => DeployEnvironmentFiles | null;
  /** GRUB_PREPARING_HOLD_MS unless told (tests). */
  readonly preparingHoldMs?: number;
}

const GRUB_INVENTORY = {
  serial: null,
  manufacturer: null,
  product: null,
  buildarch: 'x86_64',
  platform: 'efi',
} as const;

export interface GrubTftpFiles {
  /** The TFTP server's made-up files (startTftpServer's `madeFiles`). */
  readonly files: TftpMadeFiles;
  /** `mac` asked DHCP (lower case, colons): a boot begins, and its answers kept go. */
  readonly restarting: (mac: string) => void;
  /** The server stops: configs held are answered at once, and no more are held. */
  readonly stop: () => void;
}

/** The TFTP server's made-up files for GRUB, and what a new boot of a machine ends. */
export function grubTftpFiles(options: GrubBootOptions): GrubTftpFiles {
  const pending = new PendingCheckIns();
  const now = options.now ?? (() => new Date());
  const log = options.log ?? { log: () => undefined };
  const gate = options.gate ?? new RegistrationGate(options.registration ?? DEFAULT_REGISTRATION_LIMITS);
  const answers = new Map<string, { expires: number; mac: string; bytes: Promise<Uint8Array | null> }>();
  const encoder = new TextEncoder();

  const environment = (): DeployEnvironmentFiles | null => options.deployEnvironment?.() ?? null;
  const holdMs = options.preparingHoldMs ?? GRUB_PREPARING_HOLD_MS;
  const stopped = new AbortController();

  /** A file's bytes, and whether GRUB is to ask for it again (its answer is then not kept). */
  const answer = async (
    request: GrubRequest,
    address: string,
  ): Promise<{ bytes: Uint8Array | null; again: boolean }> => {
    const at = now();
    if (request.kind === 'check-in') {
      if (!pending.redeem(request.nonce, request.mac, at.getTime())) return { bytes: null, again: false };
      const recorded = await options.registry.recordCheckIn(request.mac, address, at, request.secureBoot);
      if (!recorded) return { bytes: null, again: false };
      log.log('info', 'boot check-in', {
        mac: request.mac,
        nonce: request.nonce,
        address,
        loader: 'grub',
        secureBoot: request.secureBoot,
      });
      return { bytes: encoder.encode(GRUB_CHECKED_IN), again: false };
    }
    const httpBase = typeof options.httpBase === 'function' ? options.httpBase() : options.httpBase;
    if (httpBase === null) {
      log.log('info', 'GRUB config refused: the server does not know its HTTP address', {
        mac: request.mac,
        hint: 'set --boot-url',
      });
      return { bytes: null, again: false };
    }
    const resolve = (when: Date) =>
      resolveBoot({ mac: request.mac, uuid: null, inventory: GRUB_INVENTORY }, options.registry, {
        httpBase,
        at: when,
        admit: () => gate.admit(address, when.getTime(), () => options.registry.countPending()),
        issue: (mac) => pending.issue(mac, when.getTime()),
        environment,
      });
    let resolved = await resolve(at);
    if (resolved.deployment?.kind === 'preparing') {
      const until = Date.now() + holdMs;
      while (environment() === null && Date.now() < until && !stopped.signal.aborted) {
        await sleep(PREPARING_POLL_MS, undefined, { signal: stopped.signal }).catch(() => undefined);
      }
      if (environment() !== null) resolved = await resolve(now());
    }
    const rendered = renderGrubConfig(
      { mac: resolved.machine.mac },
      { checkInNonce: resolved.nonce, deployment: resolved.deployment },
    );
    log.count?.({ counter: 'boot-script', loader: 'grub' });
    log.log('info', 'boot script', {
      mac: resolved.machine.mac,
      registered: resolved.registered,
      refused: resolved.refused,
      action: rendered.action,
      nonce: resolved.nonce,
      address,
      loader: 'grub',
    });
    return { bytes: encoder.encode(rendered.text), again: rendered.action === 'deploy-preparing' };
  };

  const files: TftpMadeFiles = (path, address) => {
    const request = parseGrubRequest(path);
    if (request === null) return Promise.resolve(null);
    const key = `${address} ${path}`;
    const nowMs = now().getTime();
    const kept = answers.get(key);
    if (kept !== undefined && kept.expires >= nowMs) return kept.bytes;
    // Kept in the order made, all for as long: the expired ones are the first ones.
    for (const [k, v] of answers) {
      if (v.expires >= nowMs) break;
      answers.delete(k);
    }
    const made = answer(request, address);
    const bytes = made.then((m) => m.bytes);
    // Neither a failed answer nor one GRUB is to ask for again is kept: its next read asks anew.
    const drop = (): void => {
      if (answers.get(key)?.bytes === bytes) answers.delete(key);
    };
    void made.then((m) => (m.again ? drop() : undefined), drop);
    answers.set(key, { expires: nowMs + GRUB_ANSWER_TTL_MS, mac: request.mac, bytes });
    if (answers.size > GRUB_ANSWERS_MAX) {
      const oldest = answers.keys().next();
      if (oldest.done !== true) answers.delete(oldest.value);
    }
    return bytes;
  };
  const restarting = (mac: string): void => {
    for (const [k, v] of answers) if (v.mac === mac) answers.delete(k);
  };
  return { files, restarting, stop: () => stopped.abort() };
}
