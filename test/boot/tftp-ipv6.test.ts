// The TFTP server over IPv6, link-local included: in a network namespace the test makes, with a
// veth pair whose ends have the link-local addresses fe80::a and fe80::b (nothing leaves it), a
// server on [::] serves curl and atftp at ::1 and at fe80::a%va (a client's address then carries its
// zone, which the transfer's socket must keep). The namespace is deleted after, also on failure.
// Needs root; skipped otherwise.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProgram } from '../../src/engines/run.ts';
import { withTempDir } from '../../src/io/output.ts';

const isRoot = process.getuid?.() === 0;
const script = fileURLToPath(new URL('./tftp-ipv6-netns.ts', import.meta.url));

test('TFTP over IPv6: loopback and a link-local address with its zone', { skip: !isRoot }, async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, 'root');
    await mkdir(root);
    await writeFile(join(root, 'file.bin'), randomBytes(100_000));
    const ns = `ws-${randomBytes(3).toString('hex')}-6`;
    const inside = (...args: string[]): Promise<unknown> => runProgram('ip', ['-n', ns, ...args]);
    try {
      await runProgram('ip', ['netns', 'add', ns]);
      await inside('link', 'set', 'lo', 'up');
      await inside('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
      await inside('link', 'set', 'va', 'up');
      await inside('link', 'set', 'vb', 'up');
      // nodad: usable at once, without duplicate address detection's wait.
      await inside('addr', 'add', 'fe80::a/64', 'dev', 'va', 'nodad');
      await inside('addr', 'add', 'fe80::b/64', 'dev', 'vb', 'nodad');
      const result = await runProgram('ip', [
        'netns',
        'exec',
        ns,
        process.execPath,
        script,
        root,
        '::1',
        'fe80::a%va',
      ]);
      assert.deepEqual(JSON.parse(result.stdout.toString()), {
        'curl ::1': true,
        'atftp ::1': true,
        'curl fe80::a%va': true,
        'atftp fe80::a%va': true,
      });
    } finally {
      await runProgram('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
  });
});
