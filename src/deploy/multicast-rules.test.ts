import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseSessionPlace, joinAnswer, parseMulticastRange } from './multicast-rules.ts';
import type { MulticastReceiver, MulticastSession } from './multicast-store.ts';

test('a multicast range must lie within 239.0.0.0/8', () => {
  assert.deepEqual(parseMulticastRange('239.192.85.0/24', 'multicast.addresses'), {
    first: 239 * 2 ** 24 + 192 * 2 ** 16 + 85 * 256,
    last: 239 * 2 ** 24 + 192 * 2 ** 16 + 85 * 256 + 255,
  });
  assert.throws(
    () => parseMulticastRange('224.0.0.0/24', 'x'),
    /224\.0\.0\.0\/24 is not within 239\.0\.0\.0\/8/,
  );
  assert.throws(() => parseMulticastRange('238.255.0.0/16', 'x'), /not within 239/);
  assert.throws(() => parseMulticastRange('239.1.2/24', 'x'), /expected a range such as/);
});

test('a new session takes the first free address of the range and the lowest free pair of ports', () => {
  const range = parseMulticastRange('239.192.85.0/30', 'r');
  assert.deepEqual(chooseSessionPlace(range, 9000, []), { address: '239.192.85.1', portBase: 9000 });
  const active = [{ address: '239.192.85.1', portBase: 9000 }];
  assert.deepEqual(chooseSessionPlace(range, 9000, active), { address: '239.192.85.2', portBase: 9002 });
  assert.deepEqual(chooseSessionPlace(range, 9000, active, '239.1.1.1'), {
    address: '239.1.1.1',
    portBase: 9002,
  });
  assert.throws(() => chooseSessionPlace(range, 9000, active, '239.192.85.1'), /used by a session under way/);
  assert.throws(() => chooseSessionPlace(range, 9000, active, '10.0.0.1'), /not within 239/);
  const full = ['239.192.85.1', '239.192.85.2', '239.192.85.3'].map((address, i) => ({
    address,
    portBase: 9000 + 2 * i,
  }));
  assert.throws(() => chooseSessionPlace(range, 9000, full), /every address of the multicast range/);
});

const SESSION: MulticastSession = {
  id: 's',
  name: 'rack-1',
  image: { digest: 'd', edition: 1 },
  address: '239.192.85.1',
  portBase: 9000,
  minReceivers: 3,
  maxWaitSeconds: 60,
  maxBitsPerSecond: null,
  state: 'joining',
  bytesSent: 0,
  bytesTotal: 0,
  error: null,
  createdBy: null,
  createdAt: '',
  updatedAt: '',
};
const RECEIVER: MulticastReceiver = {
  deploymentId: 'd1',
  sessionId: 's',
  state: 'waiting',
  reason: null,
  updatedAt: '',
};
const PLACE = { sender: '10.0.0.1', receiveTimeoutSeconds: 30 };

test('an agent joins a session that waits for its receivers; it waits while the session is prepared', () => {
  assert.deepEqual(joinAnswer(SESSION, RECEIVER, PLACE), {
    mode: 'multicast',
    group: 'rack-1',
    sender: '10.0.0.1',
    address: '239.192.85.1',
    portBase: 9000,
    index: 1,
    startTimeoutSeconds: 90,
    receiveTimeoutSeconds: 30,
  });
  assert.deepEqual(joinAnswer({ ...SESSION, state: 'preparing' }, RECEIVER, PLACE), {
    mode: 'wait',
    seconds: 2,
  });
});

test('a latecomer, a receiver moved to unicast and the receiver of an ended session go unicast', () => {
  assert.match(
    JSON.stringify(joinAnswer({ ...SESSION, state: 'sending' }, RECEIVER, PLACE)),
    /"unicast".*had started/,
  );
  assert.deepEqual(joinAnswer(SESSION, { ...RECEIVER, state: 'unicast', reason: 'dropped' }, PLACE), {
    mode: 'unicast',
    reason: 'dropped',
  });
  assert.match(
    JSON.stringify(joinAnswer({ ...SESSION, state: 'failed', error: 'udp-sender ended' }, RECEIVER, PLACE)),
    /is failed: udp-sender ended/,
  );
});
