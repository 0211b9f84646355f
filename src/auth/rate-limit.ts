// Login rate limiting, so that guessing passwords is slow and no one can lock a user out:
//   - one user from one client address: after 5 failures within 15 minutes that pair waits until
//     the oldest failure leaves the window (the guesser is stopped; the user logs in from elsewhere);
//   - one client address, whatever the user: 20 failures within the window, the same (an address
//     trying many names);
//   - one user from many addresses: once failures came from more than 5 addresses within the
//     window, each attempt waits after the last failure a delay that doubles with each further
//     address, from 1 s up to 30 s. A guesser spread over many addresses is slowed to one guess in
//     30 s; the user is never locked out, only made to wait that long at most. Failures from one
//     address count once here: they stop that address only.
// A success clears the failures of its user and of that pair (not the address's: one address
// guessing many users stays limited). Memory is bounded: the key least recently failed on is
// dropped first when a table is full. The clock is injectable for tests.

import { addressKey } from '../core/address-key.ts';
import { AppError } from '../core/errors.ts';

export interface RateLimitOptions {
  /** Window over which failures count (default 15 minutes). */
  readonly windowMs?: number;
  /** Failures allowed for one user from one address within the window (default 5). */
  readonly maxPerUserClient?: number;
  /** Failures allowed per client address within the window (default 20). */
  readonly maxPerClient?: number;
  /** Addresses one user may be failed on from before each attempt must wait (default 5). */
  readonly freePerUser?: number;
  /** The longest wait of a user slowed down (default 30 s). */
  readonly maxUserDelayMs?: number;
  /** Most keys tracked at once, each table (default 100,000). */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

export type RateLimitDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

/**
 * Failures per key within a sliding window: for each key, the sources that failed on it, each with
 * the time of its last failure, the newest `keep` of them. A source is an address (failures from
 * one address count once) or, for a log that counts every failure, a number of its own.
 */
class FailureLog {
  private readonly entries = new Map<string, Map<string, number>>();
  private readonly windowMs: number;
  private readonly keep: number;
  private readonly maxKeys: number;
  private nextSource = 0;

  constructor(windowMs: number, keep: number, maxKeys: number) {
    this.windowMs = windowMs;
    this.keep = keep;
    this.maxKeys = maxKeys;
  }

  /** The failure times of `key` still in the window, oldest first. */
  recent(key: string, now: number): number[] {
    const sources = this.entries.get(key);
    if (sources === undefined) return [];
    for (const [source, at] of sources) if (at <= now - this.windowMs) sources.delete(source);
    if (sources.size === 0) this.entries.delete(key);
    return [...sources.values()];
  }

  /** Milliseconds until the oldest of the last `max` failures leaves the window (0: fewer than `max`). */
  wait(key: string, max: number, now: number): number {
    const times = this.recent(key, now);
    if (times.length < max) return 0;
    const oldest = times[times.length - max] ?? now;
    return oldest + this.windowMs - now;
  }

  /** Records a failure on `key` from `source` (default: a source of its own, so each one counts). */
  add(key: string, now: number, source = String(this.nextSource++)): void {
    this.recent(key, now);
    const sources = this.entries.get(key) ?? new Map<string, number>();
    this.entries.delete(key);
    sources.delete(source);
    sources.set(source, now);
    if (sources.size > this.keep) dropOldest(sources);
    this.entries.set(key, sources);
    if (this.entries.size > this.maxKeys) dropOldest(this.entries);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }
}

function dropOldest(map: Map<string, unknown>): void {
  const first = map.keys().next();
  if (first.done !== true) map.delete(first.value);
}

export class LoginRateLimiter {
  private readonly pairs: FailureLog;
  private readonly clients: FailureLog;
  private readonly users: FailureLog;
  private readonly maxPerUserClient: number;
  private readonly maxPerClient: number;
  private readonly freePerUser: number;
  private readonly maxUserDelayMs: number;
  private readonly now: () => number;

  constructor(options: RateLimitOptions = {}) {
    const windowMs = options.windowMs ?? 15 * 60_000;
    const maxKeys = options.maxKeys ?? 100_000;
    this.maxPerUserClient = options.maxPerUserClient ?? 5;
    this.maxPerClient = options.maxPerClient ?? 20;
    this.freePerUser = options.freePerUser ?? 5;
    this.maxUserDelayMs = options.maxUserDelayMs ?? 30_000;
    this.pairs = new FailureLog(windowMs, this.maxPerUserClient, maxKeys);
    this.clients = new FailureLog(windowMs, this.maxPerClient, maxKeys);
    // Enough addresses kept for the delay to reach its longest (it doubles with each one).
    const doublings = Math.ceil(Math.log2(Math.max(1, this.maxUserDelayMs / 1000)));
    this.users = new FailureLog(windowMs, this.freePerUser + doublings + 1, maxKeys);
    this.now = options.now ?? Date.now;
  }

  /** How long a user failed on from many addresses waits after its last failure. */
  private userWait(user: string, now: number): number {
    const times = this.users.recent(user, now);
    const over = times.length - this.freePerUser - 1;
    const last = times.at(-1);
    if (over < 0 || last === undefined) return 0;
    const delay = Math.min(this.maxUserDelayMs, 1000 * 2 ** over);
    return Math.max(0, last + delay - now);
  }

  check(user: string, client: string): RateLimitDecision {
    const now = this.now();
    const address = addressKey(client);
    const wait = Math.max(
      this.pairs.wait(`${user}\u0000${address}`, this.maxPerUserClient, now),
      this.clients.wait(address, this.maxPerClient, now),
      this.userWait(user, now),
    );
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  /** Throws RATE_LIMITED, with the seconds to wait, when a login for `user` from `client` must wait. */
  assertAllowed(user: string, client: string): void {
    const decision = this.check(user, client);
    if (!decision.allowed) {
      const seconds = Math.ceil(decision.retryAfterMs / 1000);
      throw new AppError(
        'RATE_LIMITED',
        `too many failed logins; the next attempt is allowed in ${seconds} s`,
        {
          hint: `wait ${seconds} seconds before trying again`,
          retryAfterSeconds: seconds,
        },
      );
    }
  }

  recordFailure(user: string, client: string): void {
    const now = this.now();
    const address = addressKey(client);
    this.pairs.add(`${user}\u0000${address}`, now);
    this.clients.add(address, now);
    this.users.add(user, now, address);
  }

  recordSuccess(user: string, client: string): void {
    this.pairs.clear(`${user}\u0000${addressKey(client)}`);
    this.users.clear(user);
  }
}
