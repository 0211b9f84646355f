// winsmith's DHCP server on a real interface: two network namespaces the test makes (server and
// client) joined by a veth pair, addresses 10.123.0.0/24 inside them only; the client sends
// broadcasts from 0.0.0.0:68 as a PXE ROM does. Namespaces are deleted after, also on failure.
// Needs root (namespaces); skipped otherwise.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runProgram } from '../../src/engines/run.ts';
import type { DhcpReplySeen } from './dhcp-netns-client.ts';
import { udhcpcLease } from '../helpers/dhcp.ts';

const isRoot = process.getuid?.() === 0;
const serverScript = fileURLToPath(new URL('./dhcp-netns-server.ts', import.meta.url));
const clientScript = fileURLToPath(new URL('./dhcp-netns-client.ts', import.meta.url));

async function withNamespaces(fn: (server: string, client: string) => Promise<void>): Promise<void> {
  const id = randomBytes(3).toString('hex');
  const server = `ws-${id}-s`;
  const client = `ws-${id}-c`;
  const ip = (...args: string[]): Promise<unknown> => runProgram('ip', args);
  try {
    await ip('netns', 'add', server);
    await ip('netns', 'add', client);
    await ip('-n', server, 'link', 'add', 'vs', 'type', 'veth', 'peer', 'name', 'vc', 'netns', client);
    await ip('-n', server, 'addr', 'add', '10.123.0.1/24', 'dev', 'vs');
    await ip('-n', server, 'link', 'set', 'vs', 'up');
    await ip('-n', server, 'link', 'set', 'lo', 'up');
    // The client's address is only for the 4011 step (PXE clients have one by then); its
    // broadcasts go out from 0.0.0.0:68 all the same.
    await ip('-n', client, 'addr', 'add', '10.123.0.2/24', 'dev', 'vc');
    await ip('-n', client, 'link', 'set', 'vc', 'up');
    await ip('-n', client, 'link', 'set', 'lo', 'up');
    // A limited broadcast needs a route (a PXE ROM sends it on its one NIC regardless).
    await ip('-n', client, 'route', 'add', '255.255.255.255/32', 'dev', 'vc');
    await fn(server, client);
  } finally {
    await ip('netns', 'del', server).catch(() => undefined);
    await ip('netns', 'del', client).catch(() => undefined);
  }
}

async function runScenario(
  mode: 'proxy' | 'full',
): Promise<{ got: DhcpReplySeen[]; log: string; udhcpc: string }> {
  let result: { got: DhcpReplySeen[]; log: string; udhcpc: string } = { got: [], log: '', udhcpc: '' };
  await withNamespaces(async (serverNs, clientNs) => {
    const child = spawn('ip', ['netns', 'exec', serverNs, process.execPath, serverScript, mode, 'vs'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`server not ready: ${log}`)), 15_000);
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) {
            clearTimeout(t);
            resolve();
          }
        });
        child.on('close', () => reject(new Error(`server exited: ${log}`)));
      });
      const out = await runProgram('ip', ['netns', 'exec', clientNs, process.execPath, clientScript, mode]);
      let udhcpc = '';
      if (mode === 'full') {
        // A real client: busybox udhcpc (Debian udhcpc) as a BIOS PXE client; its event script
        // prints what it was given.
        udhcpc = await udhcpcLease(clientNs, 'vc', { tries: 3, extra: ['-x', '0x5d:0000'] });
      }
      result = { got: JSON.parse(out.stdout.toString()) as DhcpReplySeen[], log, udhcpc };
    } finally {
      child.kill('SIGTERM');
      await exited;
      result.log = log;
    }
    assert.match(log, /DHCP server stopped/, 'the server stops cleanly on its signal');
  });
  return result;
}

test(
  'full mode in a network namespace: OFFER and ACK to a broadcasting PXE client, nothing for garbage',
  { skip: !isRoot && 'needs root for network namespaces', timeout: 60_000 },
  async () => {
    const { got, log, udhcpc } = await runScenario('full');
    assert.match(
      udhcpc,
      /EVENT bound ip=10\.123\.0\.1(0[0-9]|10) boot_file=undionly\.kpxe siaddr=10\.123\.0\.1 serverid=10\.123\.0\.1/,
      udhcpc,
    );
    const offer = got.find((g) => g.xid === 2);
    const ack = got.find((g) => g.xid === 3);
    assert.ok(offer, `no OFFER; server log:\n${log}`);
    assert.equal(offer.type, 2);
    assert.match(offer.yiaddr, /^10\.123\.0\.1(0[0-9]|10)$/);
    assert.equal(offer.file, 'undionly.kpxe');
    assert.equal(offer.siaddr, '10.123.0.1');
    assert.ok(ack, `no ACK; server log:\n${log}`);
    assert.equal(ack.type, 5);
    assert.equal(ack.yiaddr, offer.yiaddr);
    // The non-PXE client gets an address too in full mode, without a boot file.
    const plain = got.find((g) => g.xid === 1);
    assert.equal(plain?.file, '');
    assert.match(log, /DHCP packet dropped/, 'garbage is logged and dropped');
  },
);

test(
  'proxy mode in a network namespace: boot information only, to PXE clients only, on 67 and 4011',
  { skip: !isRoot && 'needs root for network namespaces', timeout: 60_000 },
  async () => {
    const { got, log } = await runScenario('proxy');
    assert.equal(
      got.find((g) => g.xid === 1),
      undefined,
      'a non-PXE client is never answered',
    );
    const offer = got.find((g) => g.xid === 2);
    assert.ok(offer, `no proxy OFFER; server log:\n${log}`);
    assert.equal(offer.yiaddr, '0.0.0.0');
    assert.equal(offer.file, 'undionly.kpxe');
    const ack = got.find((g) => g.xid === 3);
    assert.ok(ack, `no ACK on 4011; server log:\n${log}`);
    assert.equal(ack.type, 5);
    assert.equal(ack.from, '10.123.0.1:4011');
    assert.equal(ack.file, 'undionly.kpxe');
  },
);
