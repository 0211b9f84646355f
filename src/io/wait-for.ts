// Waiting for something the caller does not control (a server to start, a VM to boot, a machine to
// register, a boot interface to come up): asked again and again until it is there, for a time at
// most (Infinity: no end), or until stopped.

import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../core/errors.ts';

export interface WaitOptions {
  readonly timeoutMs: number;
  /** How long between two askings (default 500 ms). */
  readonly everyMs?: number;
  /** Stops the wait: it then throws INTERRUPTED. */
  readonly signal?: AbortSignal;
}

/** The error of a wait stopped by `signal` (SIGINT or SIGTERM). */
export function interrupted(what: string): AppError {
  return new AppError('INTERRUPTED', `stopped by a signal while waiting for ${what}`, {
    hint: 'run it again when wanted',
  });
}

/**
 * The first value `check` returns that is not null, asked every `everyMs`. Throws TIMED_OUT after
 * `timeoutMs`, INTERRUPTED when `signal` aborts, and what `check` throws.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | null | Promise<T | null>,
  options: WaitOptions,
): Promise<T> {
  const end = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted === true) throw interrupted(what);
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > end) {
      throw new AppError('TIMED_OUT', `${what} did not happen in ${Math.round(options.timeoutMs / 1000)} s`, {
        hint: 'the logs named before say what was seen instead; a slower host needs more time',
      });
    }
    await sleep(options.everyMs ?? 500, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
