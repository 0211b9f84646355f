// Trying again what failed for a passing reason (a connection cut, a server restarting, a 503):
// exponential backoff with jitter, up to a number of attempts, so that a network cut costs a pause
// and a few requests, and many machines do not come back at the same instant.

import { AppError, errorText } from '../core/errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

/** About a minute of trying: long enough for a server to restart. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 10, firstDelayMs: 250, maxDelayMs: 15_000 };

/** The pause after failed attempt `attempt` (1-based): the doubled delay, capped, times `jitter` in [0.5, 1]. */
export function retryDelay(policy: RetryPolicy, attempt: number, jitter: number): number {
  const base = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base * (0.5 + Math.min(1, Math.max(0, jitter)) / 2));
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  /** Whether `error` may pass if tried again; anything else is thrown at once. */
  readonly retryable: (error: unknown) => boolean;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `fn`'s value, trying again after a retryable failure; after the last attempt, an IO_ERROR naming
 * `what`, the attempts and the last failure.
 */
export async function withRetry<T>(what: string, fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!options.retryable(error)) throw error;
      if (attempt >= options.policy.attempts) {
        const seconds = Math.round((Date.now() - started) / 1000);
        throw new AppError(
          'IO_ERROR',
          `${what} failed ${attempt} times over ${seconds} s, the last time: ${errorText(error)}`,
          { hint: 'check that the server runs and that the network reaches it', cause: error },
        );
      }
      const delay = retryDelay(options.policy, attempt, random());
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}
