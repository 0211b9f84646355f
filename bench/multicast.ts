// Benchmark: one image sent to 1 and to 4 machines by multicast (udp-sender → udp-receiver, the
// programs and arguments a session uses), and to 4 machines by unicast HTTP (each fetching the
// whole image: what every deployment does without a session), in one run, on a network made of
// namespaces only (test/helpers/multicast-network.ts: the server's bridge, one namespace a machine,
// a multicast route on the bridge alone). The receivers write to /dev/null: what is measured is the
// network path, not the disks. The image is a file of SIZE incompressible bytes (≥ 1 GiB).
//
//   npm run bench:multicast [-- SIZE=1GiB]
//
// Prints each run's time, the aggregate throughput of 4 multicast receivers against 1 (goal ≥ 3.5×:
// each as fast as one alone), and the bytes the server's bridge sent per receiver, multicast to 4
// against unicast to 4 (goal ≤ 0.3×), from the bridge's own interface counters.

import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { startInNetns } from '../src/engines/netns.ts';
import { udpReceiverArgs, udpSenderArgs } from '../src/engines/udpcast.ts';
import { GiB, MiB, formatSize, parseSize } from '../src/image/disk/size.ts';
import { withTempDir } from '../src/io/output.ts';
import { openMulticastNetwork, type MulticastNetwork } from '../test/helpers/multicast-network.ts';
import { timed } from './timed.ts';

const args = new Map(process.argv.slice(2).map((a) => a.split('=') as [string, string]));
const SIZE = parseSize(args.get('SIZE') ?? '1GiB');
const HTTP_PORT = 8090;

/** SIZE bytes of incompressible data, written in 4 MiB pieces of fresh random bytes. */
async function writeImage(path: string): Promise<void> {
  let left = SIZE;
  const pieces = Readable.from(
    (function* () {
      while (left > 0) {
        const n = Math.min(4 * MiB, left);
        left -= n;
        yield randomBytes(n);
      }
    })(),
  );
  await pipeline(pieces, createWriteStream(path));
}

/** Runs a program in `ns` to its end; fails with its output when it fails. */
async function inNetns(ns: string, command: string, argv: readonly string[]): Promise<void> {
  const service = startInNetns(ns, command, argv);
  const exit = await service.exited;
  if (exit.error !== null) throw exit.error;
  if (exit.code !== 0)
    throw new Error(
      `${command} in ${ns} ended ${String(exit.code ?? exit.signal)}: ${service.output().slice(-400)}`,
    );
}

/** The bytes the bridge sends while `fn` runs, and the seconds it takes. */
async function measured(
  network: MulticastNetwork,
  fn: () => Promise<void>,
): Promise<{ seconds: number; sent: number }> {
  const before = await network.bridgeBytes();
  const [, seconds] = await timed(fn);
  const after = await network.bridgeBytes();
  return { seconds, sent: after.tx - before.tx };
}

async function multicastTo(
  network: MulticastNetwork,
  image: string,
  receivers: number,
  run: number,
): Promise<void> {
  const portBase = 9200 + 2 * run;
  const sender = inNetns(
    network.server,
    'udp-sender',
    udpSenderArgs({
      file: image,
      interface: network.bridge,
      address: `239.192.85.${200 + run}`,
      portBase,
      minReceivers: receivers,
      maxWaitSeconds: 60,
      maxBitsPerSecond: null,
      retriesUntilDrop: 200,
    }),
  );
  const receiving = network.machines
    .slice(0, receivers)
    .map((ns) =>
      inNetns(ns, 'sh', [
        '-c',
        `udp-receiver ${udpReceiverArgs({ portBase, interface: 'eth0', startTimeoutSeconds: 60, receiveTimeoutSeconds: 30 }).join(' ')} > /dev/null`,
      ]),
    );
  await Promise.all([sender, ...receiving]);
}

async function unicastTo(network: MulticastNetwork, image: string, receivers: number): Promise<void> {
  const server = startInNetns(network.server, process.execPath, [
    '-e',
    `const http = require('node:http'); const fs = require('node:fs');
     http.createServer((q, r) => { r.writeHead(200, { 'content-length': fs.statSync(${JSON.stringify(image)}).size }); fs.createReadStream(${JSON.stringify(image)}).pipe(r); })
       .listen(${HTTP_PORT}, ${JSON.stringify(network.serverAddress)}, () => console.log('listening'));`,
  ]);
  try {
    for (let waited = 0; !server.output().includes('listening'); waited += 50) {
      if (waited > 10_000 || !server.running())
        throw new Error(`the HTTP server did not start: ${server.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(
      network.machines
        .slice(0, receivers)
        .map((ns) =>
          inNetns(ns, 'curl', [
            '-sf',
            '-o',
            '/dev/null',
            `http://${network.serverAddress}:${HTTP_PORT}/image`,
          ]),
        ),
    );
  } finally {
    await server.stop();
  }
}

await withTempDir(async (dir) => {
  const image = join(dir, 'image.bin');
  await writeImage(image);
  const network = await openMulticastNetwork(4);
  try {
    const one = await measured(network, () => multicastTo(network, image, 1, 0));
    const four = await measured(network, () => multicastTo(network, image, 4, 1));
    const unicast = await measured(network, () => unicastTo(network, image, 4));
    const rate = (receivers: number, seconds: number): number => (receivers * SIZE) / seconds;
    const line = (what: string, m: { seconds: number; sent: number }, receivers: number): string =>
      `${what.padEnd(22)} ${m.seconds.toFixed(2).padStart(7)} s  ${formatSize(rate(receivers, m.seconds))}/s aggregate  ${formatSize(m.sent / receivers)} sent per receiver`;
    console.log(
      `image: ${formatSize(SIZE)}${SIZE < GiB ? ' (under the 1 GiB the goal is measured at)' : ''}`,
    );
    console.log(line('multicast, 1 receiver', one, 1));
    console.log(line('multicast, 4 receivers', four, 4));
    console.log(line('unicast, 4 receivers', unicast, 4));
    console.log(
      `aggregate throughput, 4 multicast receivers / 1: ${(rate(4, four.seconds) / rate(1, one.seconds)).toFixed(2)}× (goal ≥ 3.5×)`,
    );
    console.log(
      `bytes sent per receiver, multicast to 4 / unicast to 4: ${(four.sent / unicast.sent).toFixed(3)}× (goal ≤ 0.3×)`,
    );
  } finally {
    await network.close();
  }
});
