// A boot network for multicast, made of network namespaces only: the server's namespace with a
// bridge (10.x.y.1/24, its broadcast address set, as udpcast's rendezvous needs) and a multicast
// route for 239.0.0.0/8 on that bridge alone, and one namespace per machine whose `eth0` is one end
// of a veth pair, the other end a port of the bridge. Every link is made inside a namespace (the
// host's own interfaces are never touched), and closing deletes the namespaces and so every link.

import { randomBytes, randomInt } from 'node:crypto';
import { addNetns, deleteNetns } from '../../src/engines/netns.ts';
import { runProgram } from '../../src/engines/run.ts';

export interface MulticastNetwork {
  /** The server's namespace; its bridge is `bridge`, its address `serverAddress`. */
  readonly server: string;
  readonly bridge: 'br0';
  readonly serverAddress: string;
  /** The machines' namespaces, in order. */
  readonly machines: readonly string[];
  /** The bytes the bridge sent and received so far (its interface counters). */
  bridgeBytes(): Promise<{ tx: number; rx: number }>;
  close(): Promise<void>;
}

async function ip(args: readonly string[]): Promise<void> {
  await runProgram('ip', args);
}

/** Makes the server's namespace and `machines` machine namespaces on its bridge. */
export async function openMulticastNetwork(machines: number): Promise<MulticastNetwork> {
  const id = randomBytes(3).toString('hex');
  const net = `10.${randomInt(100, 250)}.${randomInt(1, 250)}`;
  const server = `ws-mc-${id}`;
  const names = Array.from({ length: machines }, (_, i) => `ws-mc-${id}-m${i}`);
  const made: string[] = [];
  const close = async (): Promise<void> => {
    for (const ns of made.reverse()) await deleteNetns(ns).catch(() => undefined);
  };
  try {
    await addNetns(server);
    made.push(server);
    await ip(['-n', server, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', server, 'addr', 'add', `${net}.1/24`, 'brd', '+', 'dev', 'br0']);
    await ip(['-n', server, 'link', 'set', 'br0', 'up']);
    await ip(['-n', server, 'route', 'add', '239.0.0.0/8', 'dev', 'br0']);
    for (const [i, ns] of names.entries()) {
      await addNetns(ns);
      made.push(ns);
      const port = `v${i}`;
      await ip(['-n', server, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await ip(['-n', server, 'link', 'set', port, 'master', 'br0']);
      await ip(['-n', server, 'link', 'set', port, 'up']);
      await ip(['-n', ns, 'addr', 'add', `${net}.${10 + i}/24`, 'brd', '+', 'dev', 'eth0']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    server,
    bridge: 'br0',
    serverAddress: `${net}.1`,
    machines: names,
    async bridgeBytes() {
      const out = (await runProgram('ip', ['-n', server, '-s', '-j', 'link', 'show', 'dev', 'br0'])).stdout;
      const [link] = JSON.parse(out.toString('utf8')) as {
        stats64: { tx: { bytes: number }; rx: { bytes: number } };
      }[];
      return { tx: link?.stats64.tx.bytes ?? 0, rx: link?.stats64.rx.bytes ?? 0 };
    },
    close,
  };
}
