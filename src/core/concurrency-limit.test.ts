import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyLimit } from './concurrency-limit.ts';

test('no more than the limit run at once; the others start in order as turns free up', async () => {
  const limit = new ConcurrencyLimit(2);
  const started: number[] = [];
  const finish: (() => void)[] = [];
  let most = 0;
  const runs = [0, 1, 2, 3, 4].map((n) =>
    limit.run(async () => {
      started.push(n);
      most = Math.max(most, limit.running);
      await new Promise<void>((resolve) => finish.push(resolve));
      return n * 10;
    }),
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1]);
  assert.equal(limit.waiting, 3);
  finish.shift()?.();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1, 2]);
  while (finish.length > 0 || started.length < 5) {
    finish.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await Promise.all(runs), [0, 10, 20, 30, 40]);
  assert.equal(most, 2);
  assert.equal(limit.running, 0);
});

test('a task that fails gives its turn to the next one', async () => {
  const limit = new ConcurrencyLimit(1);
  const failing = limit.run(() => Promise.reject(new Error('no')));
  const next = limit.run(() => Promise.resolve('yes'));
  await assert.rejects(failing, /no/);
  assert.equal(await next, 'yes');
  assert.equal(limit.running, 0);
});

test('a limit that is not a count of one or more is refused', () => {
  assert.throws(() => new ConcurrencyLimit(0), RangeError);
  assert.throws(() => new ConcurrencyLimit(1.5), RangeError);
});
