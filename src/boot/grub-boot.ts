// GRUB's side of network boot under Secure Boot, served over TFTP (grub-config.ts says why not
// HTTP): the files GRUB asks for under grub/winsmith/ are made up per request — a machine's
// config (found or registered by MAC, as /boot/ipxe does, with its deployment's step) and the
// check-in its config sends back with a token of the render and GRUB's `lockdown`, recorded as
// the machine's Secure Boot state. TFTP is unauthenticated UDP: a machine's answer is kept a short
// while by client address and name, so that a request sent again (GRUB retries a read whose first
// packet is late) gets the same config, and does not see its own deployment "under way".

import type { HttpBootLog, BootMachineRegistry, DeployEnvironmentFiles } from './http-boot.ts';
import { PendingCheckIns, resolveBoot } from './http-boot.ts';
import { GRUB_CHECKED_IN, parseGrubRequest, renderGrubConfig, type GrubRequest } from './grub-config.ts';
import {
  DEFAULT_REGISTRATION_LIMITS,
  RegistrationGate,
  type RegistrationLimits,
} from './registration-gate.ts';
import type { TftpMadeFiles } from './tftp-path.ts';

/** How long an answer is given again to the same client and name (less than a preparing wait). */
export const GRUB_ANSWER_TTL_MS = 10_000;
/** Answers kept at most; the oldest is dropped past this. */
export const GRUB_ANSWERS_MAX = 1024;

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
}

const GRUB_INVENTORY = {
  serial: null,
  manufacturer: null,
  product: null,
  buildarch: 'x86_64',
  platform: 'efi',
} as const;

/** The TFTP server's made-up files for GRUB (startTftpServer's `madeFiles`). */
export function grubTftpFiles(options: GrubBootOptions): TftpMadeFiles {
  const pending = new PendingCheckIns();
  const now = options.now ?? (() => new Date());
  const log = options.log ?? { log: () => undefined };
  const gate = options.gate ?? new RegistrationGate(options.registration ?? DEFAULT_REGISTRATION_LIMITS);
  const answers = new Map<string, { expires: number; bytes: Promise<Uint8Array | null> }>();
  const encoder = new TextEncoder();

  const answer = async (request: GrubRequest, address: string): Promise<Uint8Array | null> => {
    const at = now();
    if (request.kind === 'check-in') {
      if (!pending.redeem(request.nonce, request.mac, at.getTime())) return null;
      const recorded = await options.registry.recordCheckIn(request.mac, address, at, request.secureBoot);
      if (!recorded) return null;
      log.log('info', 'boot check-in', {
        mac: request.mac,
        nonce: request.nonce,
        address,
        loader: 'grub',
        secureBoot: request.secureBoot,
      });
      return encoder.encode(GRUB_CHECKED_IN);
    }
    const httpBase = typeof options.httpBase === 'function' ? options.httpBase() : options.httpBase;
    if (httpBase === null) {
      log.log('info', 'GRUB config refused: the server does not know its HTTP address', {
        mac: request.mac,
        hint: 'set --boot-url',
      });
      return null;
    }
    const resolved = await resolveBoot(
      { mac: request.mac, uuid: null, inventory: GRUB_INVENTORY },
      options.registry,
      {
        httpBase,
        at,
        admit: () => gate.admit(address, at.getTime(), () => options.registry.countPending()),
        issue: (mac) => pending.issue(mac, at.getTime()),
        environment: () => options.deployEnvironment?.() ?? null,
      },
    );
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
    return encoder.encode(rendered.text);
  };

  return (path, address) => {
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
    const bytes = answer(request, address);
    // A failed answer is not kept: the machine's next try asks again.
    void bytes.catch(() => answers.delete(key));
    answers.set(key, { expires: nowMs + GRUB_ANSWER_TTL_MS, bytes });
    if (answers.size > GRUB_ANSWERS_MAX) {
      const oldest = answers.keys().next();
      if (oldest.done !== true) answers.delete(oldest.value);
    }
    return bytes;
  };
}
