// Which unknown machines may register themselves by booting. Boot requests carry no credentials,
// so each new MAC would otherwise be a new catalog row: registrations are limited per client
// address (a fixed one-minute window, IPv6 by /64), and no more machines than a cap may wait for
// approval (`pending`). A machine refused boots from its local disk as an unknown one does, without
// a row; machines already registered, pending or approved, are never refused. Memory is bounded:
// the address least recently counted is dropped first past MAX_TRACKED_ADDRESSES.

import { DEFAULT_MAX_PENDING_MACHINES, DEFAULT_REGISTRATIONS_PER_MINUTE } from '../config/server-config.ts';
import { addressKey } from '../core/address-key.ts';

export interface RegistrationLimits {
  /** New machines one client address may register in a minute. */
  readonly perAddressPerMinute: number;
  /** Machines waiting for approval at most; past it, unknown machines are not registered. */
  readonly maxPending: number;
}

export const DEFAULT_REGISTRATION_LIMITS: RegistrationLimits = {
  perAddressPerMinute: DEFAULT_REGISTRATIONS_PER_MINUTE,
  maxPending: DEFAULT_MAX_PENDING_MACHINES,
};

/** Client addresses whose count is kept at once. */
export const MAX_TRACKED_ADDRESSES = 10_000;

const WINDOW_MS = 60_000;

export type RegistrationRefusal = 'address-rate' | 'pending-cap';

export class RegistrationGate {
  readonly #limits: RegistrationLimits;
  readonly #windows = new Map<string, { readonly start: number; count: number }>();

  constructor(limits: RegistrationLimits) {
    this.#limits = limits;
  }

  /**
   * Null when a machine booting from `address` may register now (and it is counted), else why not.
   * `pending` is asked only when the address is within its rate.
   */
  async admit(
    address: string | null,
    nowMs: number,
    pending: () => Promise<number>,
  ): Promise<RegistrationRefusal | null> {
    const key = addressKey(address ?? 'unknown');
    let window = this.#windows.get(key);
    this.#windows.delete(key);
    if (window === undefined || nowMs - window.start >= WINDOW_MS) window = { start: nowMs, count: 0 };
    this.#windows.set(key, window);
    if (this.#windows.size > MAX_TRACKED_ADDRESSES) {
      const oldest = this.#windows.keys().next();
      if (oldest.done !== true) this.#windows.delete(oldest.value);
    }
    if (window.count >= this.#limits.perAddressPerMinute) return 'address-rate';
    if ((await pending()) >= this.#limits.maxPending) return 'pending-cap';
    window.count++;
    return null;
  }
}
