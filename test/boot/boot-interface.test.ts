// `winsmith server --dhcp full --interface br0` started while br0 has no carrier (its one port's
// other end is down, as at boot or before a VM's tap opens), in a network namespace the test
// makes: the server starts and serves its API, /api/health shows DHCP waiting; once the machine's
// end comes up (carrier), DHCP and TFTP (told to bind the bridge's address) bind, log it, health
// shows them running, and a real client (busybox udhcpc) in a second namespace gets an address.
// Namespaces are deleted after, also on failure. Needs root.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { runProgram } from '../../src/engines/run.ts';
import { withTempDir } from '../../src/io/output.ts';
import { waitFor as waitUntil } from '../../src/io/wait-for.ts';
import { udhcpcLease } from '../helpers/dhcp.ts';
import { startServerProcess } from '../helpers/server-process.ts';

const isRoot = process.getuid?.() === 0;

const ip = (...args: string[]): Promise<unknown> => runProgram('ip', args);

interface LogLine {
  readonly msg: string;
  readonly url?: string;
  readonly [field: string]: unknown;
}

/** br0's operational state in `ns`: an interface neither 'up' nor 'unknown' is left out of the server's list. */
async function operstate(ns: string): Promise<string> {
  const out = await runProgram('ip', ['netns', 'exec', ns, 'cat', '/sys/class/net/br0/operstate']);
  return out.stdout.toString().trim();
}

interface Health {
  readonly status: string;
  readonly services: Record<string, { state: string; detail: string | null }>;
}

/** GET URL/api/health from inside the namespace (the server listens on its loopback). */
async function health(ns: string, url: string): Promise<Health> {
  const out = await runProgram('ip', ['netns', 'exec', ns, 'curl', '-sf', `${url}/api/health`]);
  return JSON.parse(out.stdout.toString()) as Health;
}

test(
  'a server whose boot interface has no carrier serves its API; DHCP binds when the interface comes up',
  { skip: !isRoot && 'needs root for network namespaces', timeout: 180_000 },
  async () => {
    const id = randomBytes(3).toString('hex');
    const serverNs = `ws-${id}-bs`;
    const clientNs = `ws-${id}-bc`;
    await withTempDir(async (dir) => {
      try {
        await ip('netns', 'add', serverNs);
        await ip('netns', 'add', clientNs);
        await ip('-n', serverNs, 'link', 'set', 'lo', 'up');
        await ip('-n', serverNs, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0');
        await ip('-n', serverNs, 'addr', 'add', '10.77.0.1/24', 'dev', 'br0');
        await ip('-n', serverNs, 'link', 'set', 'br0', 'up');
        // The bridge's one port is a veth whose other end (the machine's side, in the client's
        // namespace) is down, as a tap is until its VM opens it: the bridge has no carrier.
        await ip(
          '-n',
          serverNs,
          'link',
          'add',
          'vb',
          'type',
          'veth',
          'peer',
          'name',
          'vc',
          'netns',
          clientNs,
        );
        await ip('-n', serverNs, 'link', 'set', 'vb', 'master', 'br0');
        await ip('-n', serverNs, 'link', 'set', 'vb', 'up');
        // A bridge with no port has carrier (operstate "unknown", which counts as running); the
        // kernel drops it a moment after the port joins (its link watch is deferred, late on a busy
        // host). The server starts once br0 reads "down", as it would find it at boot.
        await waitUntil(
          'br0 to lose its carrier',
          async () => ((await operstate(serverNs)) === 'down' ? true : null),
          { timeoutMs: 30_000, everyMs: 100 },
        );

        const config = join(dir, 'server.yaml');
        await writeFile(config, `data: ${join(dir, 'data')}\nlisten: 127.0.0.1:0\n`);
        const log: string[] = [];
        const server = await startServerProcess(config, log, {
          netns: serverNs,
          args: [
            '--dhcp',
            'full',
            '--interface',
            'br0',
            '--dhcp-range',
            '10.77.0.100-10.77.0.110',
            '--tftp',
            '10.77.0.1:0',
          ],
        });
        const lines = (): LogLine[] =>
          log.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
        const waitFor = async (msg: string): Promise<LogLine> => {
          for (let i = 0; i < 600; i++) {
            const found = lines().find((l) => l.msg === msg);
            if (found !== undefined) return found;
            await new Promise((r) => setTimeout(r, 100));
          }
          throw new Error(`no '${msg}' in the log:\n${log.join('\n')}`);
        };
        try {
          const url = server.url;
          const waiting = await waitFor('dhcp waiting for its interface');
          assert.equal(waiting.interface, 'br0');
          const before = await health(serverNs, url);
          assert.equal(before.status, 'ok');
          assert.equal(before.services.http?.state, 'running');
          assert.equal(before.services.dhcp?.state, 'waiting');
          assert.match(before.services.dhcp.detail ?? '', /br0 has no IPv4 address or no carrier/);
          await waitFor('tftp waiting for its address');
          assert.equal(before.services.tftp?.state, 'waiting');

          // The machine's side comes up: the bridge gets carrier.
          await ip('-n', clientNs, 'link', 'set', 'lo', 'up');
          await ip('-n', clientNs, 'link', 'set', 'vc', 'up');
          await ip('-n', clientNs, 'route', 'add', '255.255.255.255/32', 'dev', 'vc');

          const ready = await waitFor('dhcp interface ready');
          assert.equal(ready.address, '10.77.0.1');
          await waitFor('dhcp listening');
          await waitFor('tftp listening');
          const after = await health(serverNs, url);
          assert.equal(after.services.tftp?.state, 'running');
          assert.equal(after.services.dhcp?.state, 'running');
          assert.equal(after.services.dhcp.detail, '10.77.0.1 on br0');

          const lease = await udhcpcLease(clientNs, 'vc', { tries: 5 });
          assert.match(
            lease,
            /EVENT bound ip=10\.77\.0\.1(0[0-9]|10) boot_file=undionly\.kpxe siaddr=10\.77\.0\.1/,
            lease,
          );
          assert.ok(
            !lines().some((l) => l.msg === 'service failed'),
            'no service failed: the server stayed up throughout',
          );
        } finally {
          server.child.kill('SIGTERM');
          await server.exited;
        }
      } finally {
        await ip('netns', 'del', serverNs).catch(() => undefined);
        await ip('netns', 'del', clientNs).catch(() => undefined);
      }
    });
  },
);
