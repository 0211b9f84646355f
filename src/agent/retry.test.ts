import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { retryDelay, withRetry, type RetryPolicy } from './retry.ts';

const policy: RetryPolicy = { attempts: 4, firstDelayMs: 100, maxDelayMs: 350 };

test('the delay doubles from the first, stops at the cap, and jitter keeps it within [half, whole]', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 50].map((a) => retryDelay(policy, a, 1)),
    [100, 200, 350, 350, 350],
  );
  assert.equal(retryDelay(policy, 1, 0), 50);
  assert.equal(retryDelay(policy, 2, 0.5), 150);
  assert.equal(retryDelay(policy, 2, 7), 200);
});

test('a retryable failure is tried again after the delays, and the value comes back', async () => {
  const slept: number[] = [];
  const retried: number[] = [];
  let calls = 0;
  const value = await withRetry(
    'the thing',
    () => (++calls < 3 ? Promise.reject(new Error(`cut ${calls}`)) : Promise.resolve('ok')),
    {
      policy,
      retryable: () => true,
      onRetry: (_e, attempt) => retried.push(attempt),
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
      random: () => 1,
    },
  );
  assert.equal(value, 'ok');
  assert.deepEqual(slept, [100, 200]);
  assert.deepEqual(retried, [1, 2]);
});

test('after the last attempt: IO_ERROR naming what, the attempts and the last failure', async () => {
  let calls = 0;
  await assert.rejects(
    withRetry('chunk 7', () => Promise.reject(new Error(`cut ${++calls}`)), {
      policy,
      retryable: () => true,
      sleep: () => Promise.resolve(),
    }),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'IO_ERROR' &&
      /^chunk 7 failed 4 times over \d+ s, the last time: cut 4$/.test(e.message),
  );
  assert.equal(calls, 4);
});

test('a failure that is not retryable is thrown at once', async () => {
  let calls = 0;
  const refused = new AppError('FORBIDDEN', 'no');
  await assert.rejects(
    withRetry('x', () => (calls++, Promise.reject(refused)), {
      policy,
      retryable: (e) => e !== refused,
      sleep: () => Promise.resolve(),
    }),
    (e: unknown) => e === refused,
  );
  assert.equal(calls, 1);
});
