// ConnectedUdpSocket when the kernel's send buffer fills: in a network namespace the test makes,
// whose loopback gets a rate-limited queue (tbf), so packets wait in it and stay charged to the
// sending socket. The namespace is deleted after, also on failure. Needs root; skipped otherwise.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram } from '../../src/engines/run.ts';

const isRoot = process.getuid?.() === 0;
const script = fileURLToPath(new URL('./connected-udp-full-buffer.ts', import.meta.url));

test('a send the kernel takes only in part goes on when onWritable says so', { skip: !isRoot }, async () => {
  const ns = `ws-${randomBytes(3).toString('hex')}-u`;
  try {
    await runProgram('ip', ['netns', 'add', ns]);
    await runProgram('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await runProgram('tc', [
      '-n',
      ns,
      'qdisc',
      'add',
      'dev',
      'lo',
      'root',
      'tbf',
      'rate',
      '20mbit',
      'burst',
      '8kb',
      'limit',
      '1mb',
    ]);
    const result = await runProgram('ip', ['netns', 'exec', ns, process.execPath, script, '300']);
    const got = JSON.parse(result.stdout.toString()) as {
      received: number;
      inOrder: boolean;
      partialSends: number;
      writableEvents: number;
      errors: string[];
    };
    assert.equal(got.received, 300);
    assert.ok(got.inOrder);
    assert.ok(got.partialSends > 0, 'the send buffer never filled: the test proves nothing');
    assert.equal(got.writableEvents, got.partialSends);
    assert.deepEqual(got.errors, []);
  } finally {
    await runProgram('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
});
