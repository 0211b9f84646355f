import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { LoginRateLimiter, clientKey } from './rate-limit.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('a user is limited after N failures and freed as the window slides', () => {
  const c = clock();
  const limiter = new LoginRateLimiter({ windowMs: 60_000, maxPerUser: 3, maxPerClient: 100, now: c.now });
  for (let i = 0; i < 3; i++) {
    assert.equal(limiter.check('alice', '10.0.0.1').allowed, true);
    limiter.recordFailure('alice', '10.0.0.1');
    c.advance(10_000);
  }
  const blocked = limiter.check('alice', '10.0.0.2');
  assert.deepEqual(blocked, { allowed: false, retryAfterMs: 30_000 }, 'by name, whatever the address');
  assert.equal(limiter.check('bob', '10.0.0.1').allowed, true);
  c.advance(29_999);
  assert.equal(limiter.check('alice', '10.0.0.1').allowed, false);
  c.advance(1);
  assert.equal(limiter.check('alice', '10.0.0.1').allowed, true, 'the oldest failure left the window');
  limiter.recordFailure('alice', '10.0.0.1');
  assert.equal(limiter.check('alice', '10.0.0.1').allowed, false);
});

test('an address guessing many names is limited; a success clears only the user', () => {
  const c = clock();
  const limiter = new LoginRateLimiter({ windowMs: 60_000, maxPerUser: 5, maxPerClient: 4, now: c.now });
  for (const name of ['a', 'b', 'c', 'd']) limiter.recordFailure(name, '192.0.2.7');
  assert.equal(limiter.check('e', '192.0.2.7').allowed, false);
  assert.equal(limiter.check('e', '192.0.2.8').allowed, true);
  limiter.recordSuccess('a');
  assert.equal(limiter.check('a', '192.0.2.7').allowed, false);
  assert.throws(
    () => limiter.assertAllowed('a', '192.0.2.7'),
    (e: unknown) => e instanceof AppError && e.code === 'RATE_LIMITED' && /60 s/.test(e.message),
  );
  c.advance(60_000);
  assert.doesNotThrow(() => limiter.assertAllowed('a', '192.0.2.7'));
});

test('a success resets the user count', () => {
  const limiter = new LoginRateLimiter({ maxPerUser: 2, now: clock().now });
  limiter.recordFailure('alice', 'x');
  limiter.recordSuccess('alice');
  limiter.recordFailure('alice', 'y');
  assert.equal(limiter.check('alice', 'z').allowed, true);
  limiter.recordFailure('alice', 'y');
  assert.equal(limiter.check('alice', 'z').allowed, false);
});

test('memory stays bounded: the least recently failed key is dropped first', () => {
  const limiter = new LoginRateLimiter({ maxPerUser: 1, maxPerClient: 1000, maxKeys: 3, now: clock().now });
  for (const name of ['u1', 'u2', 'u3']) limiter.recordFailure(name, 'c');
  limiter.recordFailure('u1', 'c');
  limiter.recordFailure('u4', 'c');
  assert.equal(limiter.check('u2', 'other').allowed, true, 'u2 was dropped');
  assert.equal(limiter.check('u1', 'other').allowed, false);
  assert.equal(limiter.check('u4', 'other').allowed, false);
});

test('client keys: IPv4 as is, IPv4-mapped as IPv4, IPv6 by /64', () => {
  assert.equal(clientKey('192.0.2.1'), '192.0.2.1');
  assert.equal(clientKey('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:DB8:1:2::9'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('0001:0db8:0000:0002::1'), '1:db8:0:2::/64');
  assert.equal(clientKey('local'), 'local');
});

test('addresses in one IPv6 /64 share a limit', () => {
  const limiter = new LoginRateLimiter({ maxPerUser: 100, maxPerClient: 2, now: clock().now });
  limiter.recordFailure('a', '2001:db8:1:2::1');
  limiter.recordFailure('b', '2001:db8:1:2::ffff');
  assert.equal(limiter.check('c', '2001:db8:1:2:aaaa::1').allowed, false);
  assert.equal(limiter.check('c', '2001:db8:1:3::1').allowed, true);
});
