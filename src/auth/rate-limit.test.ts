import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { LoginRateLimiter } from './rate-limit.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('one user from one address is stopped after N failures, freed as the window slides; other addresses are not', () => {
  const c = clock();
  const limiter = new LoginRateLimiter({
    windowMs: 60_000,
    maxPerUserClient: 3,
    freePerUser: 100,
    now: c.now,
  });
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.check('alice', '10.0.0.1').allowed, true);
    limiter.recordFailure('alice', '10.0.0.1');
    c.advance(10_000);
  }
  assert.deepEqual(limiter.check('alice', '10.0.0.1'), { allowed: false, retryAfterMs: 30_000 });
  assert.equal(limiter.check('alice', '10.0.0.2').allowed, true, 'the user still logs in from elsewhere');
  assert.equal(limiter.check('bob', '10.0.0.1').allowed, true);
  c.advance(29_999);
  assert.equal(limiter.check('alice', '10.0.0.1').allowed, false);
  c.advance(1);
  assert.equal(limiter.check('alice', '10.0.0.1').allowed, true, 'the oldest failure left the window');
  limiter.recordFailure('alice', '10.0.0.1');
  assert.equal(limiter.check('alice', '10.0.0.1').allowed, false);
});

test('failures of one user from many addresses slow the user down by a growing delay, never lock it out', () => {
  const c = clock();
  const limiter = new LoginRateLimiter({ freePerUser: 5, maxUserDelayMs: 30_000, now: c.now });
  const waits: number[] = [];
  for (let i = 0; i < 12; i++) {
    const decision = limiter.check('alice', `203.0.113.${i}`);
    const wait = decision.allowed ? 0 : decision.retryAfterMs;
    waits.push(wait);
    c.advance(wait);
    assert.equal(limiter.check('alice', `203.0.113.${i}`).allowed, true);
    limiter.recordFailure('alice', `203.0.113.${i}`);
  }
  assert.deepEqual(waits, [0, 0, 0, 0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 30_000]);
  const fresh = limiter.check('alice', '198.51.100.9');
  assert.deepEqual(fresh, { allowed: false, retryAfterMs: 30_000 }, 'at most the longest delay');
  c.advance(30_000);
  assert.equal(limiter.check('alice', '198.51.100.9').allowed, true);
  limiter.recordSuccess('alice', '198.51.100.9');
  assert.equal(limiter.check('alice', '203.0.113.1').allowed, true, 'a success ends the slow-down');
});

test('failures from one address count once toward the slow-down of its user', () => {
  const limiter = new LoginRateLimiter({ maxPerUserClient: 100, freePerUser: 2, now: clock().now });
  for (let i = 0; i < 50; i++) limiter.recordFailure('alice', '203.0.113.1');
  limiter.recordFailure('alice', '203.0.113.2');
  assert.equal(limiter.check('alice', '198.51.100.1').allowed, true);
  limiter.recordFailure('alice', '203.0.113.3');
  assert.equal(limiter.check('alice', '198.51.100.1').allowed, false);
});

test('an address guessing many names is limited; a success does not clear the address', () => {
  const c = clock();
  const limiter = new LoginRateLimiter({ windowMs: 60_000, maxPerClient: 4, now: c.now });
  for (const name of ['a', 'b', 'c', 'd']) limiter.recordFailure(name, '192.0.2.7');
  assert.equal(limiter.check('e', '192.0.2.7').allowed, false);
  assert.equal(limiter.check('e', '192.0.2.8').allowed, true);
  limiter.recordSuccess('a', '192.0.2.7');
  assert.equal(limiter.check('a', '192.0.2.7').allowed, false);
  assert.throws(
    () => limiter.assertAllowed('a', '192.0.2.7'),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'RATE_LIMITED' &&
      /60 s/.test(e.message) &&
      e.retryAfterSeconds === 60,
  );
  c.advance(60_000);
  assert.doesNotThrow(() => limiter.assertAllowed('a', '192.0.2.7'));
});

test('a success resets the count of its user from its address', () => {
  const limiter = new LoginRateLimiter({ maxPerUserClient: 2, now: clock().now });
  limiter.recordFailure('alice', 'x');
  limiter.recordSuccess('alice', 'x');
  limiter.recordFailure('alice', 'x');
  assert.equal(limiter.check('alice', 'x').allowed, true);
  limiter.recordFailure('alice', 'x');
  assert.equal(limiter.check('alice', 'x').allowed, false);
});

test('memory stays bounded: the least recently failed key is dropped first', () => {
  const limiter = new LoginRateLimiter({
    maxPerUserClient: 1,
    freePerUser: 100,
    maxKeys: 3,
    now: clock().now,
  });
  for (const name of ['u1', 'u2', 'u3']) limiter.recordFailure(name, 'c');
  limiter.recordFailure('u1', 'c');
  limiter.recordFailure('u4', 'c');
  assert.equal(limiter.check('u2', 'c').allowed, true, 'u2 was dropped');
  assert.equal(limiter.check('u1', 'c').allowed, false);
  assert.equal(limiter.check('u4', 'c').allowed, false);
});

test('addresses in one IPv6 /64 share a limit', () => {
  const limiter = new LoginRateLimiter({ maxPerClient: 2, now: clock().now });
  limiter.recordFailure('a', '2001:db8:1:2::1');
  limiter.recordFailure('b', '2001:db8:1:2::ffff');
  assert.equal(limiter.check('c', '2001:db8:1:2:aaaa::1').allowed, false);
  assert.equal(limiter.check('c', '2001:db8:1:3::1').allowed, true);
});
