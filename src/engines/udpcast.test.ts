import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUdpSenderLine, udpReceiverArgs, udpSenderArgs } from './udpcast.ts';

test("udp-sender's lines (as udpcast 20120424 writes them) become the session's events", () => {
  const lines = [
    'Udp-sender 20120424',
    'UDP sender for /tmp/mc/p.wim at 10.77.0.1 on br0 ',
    'Broadcasting control to 10.77.0.255',
    'New connection from 10.77.0.11  (#0) 00000009',
    'Starting transfer: 00000009',
    'bytes=100 530 976  re-xmits=0000087 (  0.1%) slice=0073 -   1',
    'Dropping client #2 because of timeout',
    'Transfer complete.\u0007',
    'Disconnecting #0 (10.77.0.11)',
  ];
  assert.deepEqual(lines.map(parseUdpSenderLine), [
    null,
    null,
    null,
    { kind: 'joined', address: '10.77.0.11', receiver: 0 },
    { kind: 'started' },
    { kind: 'progress', bytes: 100_530_976 },
    { kind: 'dropped', receiver: 2 },
    { kind: 'complete' },
    null,
  ]);
});

test('the sender sends to the session address on the one interface given; the rate cap only when set', () => {
  const base = {
    file: 'x.wim',
    interface: 'br0',
    address: '239.192.85.1',
    portBase: 9002,
    minReceivers: 3,
    maxWaitSeconds: 60,
    maxBitsPerSecond: null,
    retriesUntilDrop: 30,
  };
  const args = udpSenderArgs(base).join(' ');
  assert.match(
    args,
    /--interface br0 --mcast-data-address 239\.192\.85\.1 --portbase 9002 --min-receivers 3 --max-wait 60/,
  );
  assert.doesNotMatch(args, /max-bitrate/);
  assert.match(udpSenderArgs({ ...base, maxBitsPerSecond: 4_000_000 }).join(' '), /--max-bitrate 4000000/);
  assert.deepEqual(
    udpReceiverArgs({ portBase: 9002, interface: null, startTimeoutSeconds: 90, receiveTimeoutSeconds: 30 }),
    ['--portbase', '9002', '--nokbd', '--start-timeout', '90', '--receive-timeout', '30'],
  );
});
