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

test(
  'a send, or an armed step, the kernel takes only in part goes on when onWritable says so; nothing queued follows that step',
  { skip: !isRoot },
  async () => {
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
      interface Run {
        received: number;
        inOrder: boolean;
        partialSends: number;
        writableEvents: number;
        answered: number[][];
        errors: string[];
      }
      const got = JSON.parse(result.stdout.toString()) as {
        sent: Run;
        armed: Run;
        afterward: { followed: boolean; unanswered: number; strays: number };
      };
      for (const [how, run] of Object.entries({ sent: got.sent, armed: got.armed })) {
        assert.equal(run.received, 300, how);
        assert.ok(run.inOrder, how);
        assert.ok(run.partialSends > 0, `${how}: the send buffer never filled: the test proves nothing`);
        assert.equal(run.writableEvents, run.partialSends, how);
        assert.deepEqual(run.errors, [], how);
      }
      // The armed step that the kernel did not take whole ended the sequence, and said how much it took.
      assert.equal(got.armed.answered.length, 1);
      const [steps, lastTaken] = got.armed.answered[0] ?? [];
      assert.equal(steps, 1);
      assert.ok(lastTaken !== undefined && lastTaken > 0 && lastTaken < 300, `took ${String(lastTaken)}`);
      assert.deepEqual(got.sent.answered, []);
      // The sequence queued to follow ended with it: the same datagram said again is not answered.
      assert.deepEqual(got.afterward, { followed: true, unanswered: 1, strays: 0 });
    } finally {
      await runProgram('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
  },
);
