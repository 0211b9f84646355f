// Login rate limiting: failed attempts are counted per user name and per client address over a
// sliding window; past either limit, logins are refused until the oldest failure in the window
// ages out. A success clears that user's count (not the address's: one address guessing many
// users stays limited). The clock is injectable for tests. Memory is bounded: the key that was
// least recently failed on is dropped first when a table is full.

import { isIPv6 } from 'node:net';
import { AppError } from '../core/errors.ts';

export interface RateLimitOptions {
  /** Window over which failures count (default 15 minutes). */
  readonly windowMs?: number;
  /** Failures allowed per user name within the window (default 5). */
  readonly maxPerUser?: number;
  /** Failures allowed per client address within the window (default 20). */
  readonly maxPerClient?: number;
  /** Most names or addresses tracked at once, each table (default 100,000). */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

export type RateLimitDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

class FailureLog {
  private readonly entries = new Map<string, number[]>();
  private readonly windowMs: number;
  private readonly max: number;
  private readonly maxKeys: number;

  constructor(windowMs: number, max: number, maxKeys: number) {
    this.windowMs = windowMs;
    this.max = max;
    this.maxKeys = maxKeys;
  }

  private recent(key: string, now: number): number[] {
    const times = this.entries.get(key);
    if (times === undefined) return [];
    const kept = times.filter((t) => t > now - this.windowMs);
    if (kept.length === 0) this.entries.delete(key);
    else this.entries.set(key, kept);
    return kept;
  }

  /** Milliseconds until another attempt is allowed, 0 when it is allowed now. */
  wait(key: string, now: number): number {
    const times = this.recent(key, now);
    if (times.length < this.max) return 0;
    const oldest = times[times.length - this.max] ?? now;
    return oldest + this.windowMs - now;
  }

  add(key: string, now: number): void {
    const times = this.recent(key, now);
    this.entries.delete(key);
    times.push(now);
    if (times.length > this.max) times.splice(0, times.length - this.max);
    this.entries.set(key, times);
    if (this.entries.size > this.maxKeys) {
      const first = this.entries.keys().next();
      if (first.done !== true) this.entries.delete(first.value);
    }
  }

  clear(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * The key a client address is counted under: IPv4 as is (also when IPv4-mapped, `::ffff:a.b.c.d`),
 * IPv6 by its /64 prefix, since one host commonly holds a whole /64 and could otherwise rotate
 * addresses to escape the limit.
 */
export function clientKey(address: string): string {
  const bare = address.replace(/%.*$/, '').toLowerCase();
  if (!isIPv6(bare)) return bare;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped?.[1] !== undefined) return mapped[1];
  const [head = '', tail] = bare.split('::');
  const groups = (text: string): string[] =>
    text === '' ? [] : text.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const full = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${full
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class LoginRateLimiter {
  private readonly users: FailureLog;
  private readonly clients: FailureLog;
  private readonly now: () => number;

  constructor(options: RateLimitOptions = {}) {
    const windowMs = options.windowMs ?? 15 * 60_000;
    const maxKeys = options.maxKeys ?? 100_000;
    this.users = new FailureLog(windowMs, options.maxPerUser ?? 5, maxKeys);
    this.clients = new FailureLog(windowMs, options.maxPerClient ?? 20, maxKeys);
    this.now = options.now ?? Date.now;
  }

  check(user: string, client: string): RateLimitDecision {
    const now = this.now();
    const wait = Math.max(this.users.wait(user, now), this.clients.wait(clientKey(client), now));
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  /** Throws RATE_LIMITED when a login for `user` from `client` must wait. */
  assertAllowed(user: string, client: string): void {
    const decision = this.check(user, client);
    if (!decision.allowed) {
      const seconds = Math.ceil(decision.retryAfterMs / 1000);
      throw new AppError(
        'RATE_LIMITED',
        `too many failed logins; the next attempt is allowed in ${seconds} s`,
        {
          hint: `wait ${seconds} seconds before trying again`,
        },
      );
    }
  }

  recordFailure(user: string, client: string): void {
    const now = this.now();
    this.users.add(user, now);
    this.clients.add(clientKey(client), now);
  }

  recordSuccess(user: string): void {
    this.users.clear(user);
  }
}
