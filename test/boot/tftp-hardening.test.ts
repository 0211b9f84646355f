// winsmith's TFTP server under requests nobody answers, over loopback only (127.0.0.0/8 is all
// local: floods come from 127.0.1.x and 127.0.2.x, real clients from 127.0.0.1): a flood of read
// requests asking for the longest timeout must not keep real clients out, one address holds a few
// transfers at most, the timeout option is capped, and 200 transfers at once stay within bounded
// memory. Also: files that are not regular (a FIFO, a socket, a device) are refused at once.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTftpServer } from '../../src/boot/tftp-server.ts';
import { runProgram } from '../../src/engines/run.ts';
import {
  TFTP_ERRORS,
  parseTftpPacket,
  serializeTftpPacket,
  type TftpPacket,
} from '../../src/formats/tftp/tftp.ts';
import { fetchWindowed, holdTempDir, openRawPeer } from './tftp-helpers.ts';

const exec = promisify(execFile);
let dir = '';
let root = '';
let releaseTempDir: () => Promise<void> = () => Promise.resolve();
const file = randomBytes(1 << 20);

before(async () => {
  ({ dir, release: releaseTempDir } = await holdTempDir());
  root = join(dir, 'root');
  await mkdir(root);
  await writeFile(join(root, 'file.bin'), file);
});

after(async () => {
  await releaseTempDir();
});

async function curlGet(port: number, name = 'file.bin'): Promise<Buffer> {
  const out = join(dir, `curl-${String(Math.random())}`);
  await runProgram('curl', [
    '-sS',
    '--max-time',
    '20',
    '--tftp-blksize',
    '1468',
    '-o',
    out,
    `tftp://127.0.0.1:${String(port)}/${name}`,
  ]);
  return readFile(out);
}

/** A socket on `address` that sends one read request with `timeout=255` and never answers anything. */
interface Flooder {
  readonly socket: dgram.Socket;
  replies: TftpPacket[];
}

async function flooder(address: string): Promise<Flooder> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const f: Flooder = { socket, replies: [] };
  socket.on('message', (msg) => f.replies.push(parseTftpPacket(msg)));
  return f;
}

const FLOOD_REQUEST = serializeTftpPacket({
  op: 'RRQ',
  filename: 'file.bin',
  mode: 'octet',
  options: [
    ['timeout', '255'],
    ['blksize', '1468'],
    ['tsize', '0'],
  ],
});

/** Waits until `condition` holds, checking every 50 ms; false after `ms`. */
async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

test(
  'a flood of unanswered requests (timeout=255, 800 ports, 100 addresses) does not keep curl out',
  { timeout: 60_000 },
  async (t) => {
    const server = await startTftpServer({ root, port: 0 });
    const flooders: Flooder[] = [];
    try {
      for (let a = 0; a < 100; a++)
        for (let p = 0; p < 8; p++) flooders.push(await flooder(`127.0.1.${String(a + 1)}`));
      const flood = (from: number, to: number): void => {
        for (const f of flooders.slice(from, to)) f.socket.send(FLOOD_REQUEST, server.port, '127.0.0.1');
      };
      // Half the flood first, the other half in bursts of 40 every 100 ms while curl fetches.
      flood(0, 400);
      await new Promise((r) => setTimeout(r, 200));
      let held = server.sessionCount();
      let next = 400;
      const bursts = setInterval(() => {
        flood(next, next + 40);
        next += 40;
        held = Math.max(held, server.sessionCount());
        if (next >= flooders.length) clearInterval(bursts);
      }, 100);
      const started = performance.now();
      const fetched = await curlGet(server.port);
      const seconds = (performance.now() - started) / 1000;
      clearInterval(bursts);
      t.diagnostic(
        `curl fetched 1 MiB in ${seconds.toFixed(3)} s during the flood; ${String(held)} transfers held at most`,
      );
      assert.ok(fetched.equals(file));
      assert.ok(seconds < 3, `the fetch took ${seconds.toFixed(3)} s`);
      // The unanswered pool (256 by default) is all a flood holds, whatever its size.
      assert.ok(held <= 257, `${String(held)} transfers held`);
      // No client of the flood was refused: each got its OACK, the timeout left out (the server's maximum is 5 s).
      const first = flooders[0]?.replies[0];
      assert.deepEqual(first, {
        op: 'OACK',
        options: [
          ['blksize', '1468'],
          ['tsize', String(file.length)],
        ],
      });
      // Unanswered, every one is let go a few seconds after its first packet.
      assert.ok(
        await eventually(() => server.sessionCount() === 0, 6000),
        `${String(server.sessionCount())} still held`,
      );
    } finally {
      for (const f of flooders) f.socket.close();
      await server.close();
    }
  },
);

test(
  '576 unanswered requests from one address: 8 held, the rest refused, all gone within 4 s',
  { timeout: 30_000 },
  async (t) => {
    const server = await startTftpServer({ root, port: 0 });
    const flooders: Flooder[] = [];
    try {
      for (let i = 0; i < 576; i++) flooders.push(await flooder('127.0.2.1'));
      const started = performance.now();
      // In bursts of 48, 10 ms apart: the listener's receive buffer (net.core.rmem_default) holds a
      // few hundred requests, and the kernel drops what does not fit.
      for (let i = 0; i < flooders.length; i += 48) {
        for (const f of flooders.slice(i, i + 48)) f.socket.send(FLOOD_REQUEST, server.port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(
        await eventually(() => flooders.every((f) => f.replies.length > 0), 5000),
        'every request answered',
      );
      assert.equal(server.sessionCount(), 8);
      const refused = flooders.filter((f) => f.replies[0]?.op === 'ERROR');
      assert.equal(refused.length, 568);
      assert.deepEqual(refused[0]?.replies[0], {
        op: 'ERROR',
        code: TFTP_ERRORS.NOT_DEFINED,
        message: 'too many transfers from 127.0.2.1: try again later',
      });
      // Another address is served meanwhile.
      assert.ok((await curlGet(server.port)).equals(file));
      assert.ok(await eventually(() => server.sessionCount() === 0, 5000));
      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(`the 8 unanswered transfers were let go ${seconds.toFixed(2)} s after the flood`);
      assert.ok(seconds < 4, `${seconds.toFixed(2)} s`);
      // Each got its OACK three times (the first and two resends, 1 s apart), then nothing: no ERROR.
      const kept = flooders.filter((f) => f.replies[0]?.op === 'OACK');
      assert.equal(kept.length, 8);
      for (const f of kept)
        assert.deepEqual(
          f.replies.map((p) => p.op),
          ['OACK', 'OACK', 'OACK'],
        );
    } finally {
      for (const f of flooders) f.socket.close();
      await server.close();
    }
  },
);

test(
  'one address holds at most maxPerAddress transfers; others are served',
  { timeout: 20_000 },
  async () => {
    const server = await startTftpServer({ root, port: 0, maxPerAddress: 2 });
    const peers = await Promise.all([1, 2, 3].map(() => openRawPeer(server.port)));
    const other = await openRawPeer(server.port, '127.0.0.2');
    try {
      const request: TftpPacket = { op: 'RRQ', filename: 'file.bin', mode: 'octet', options: [] };
      for (const peer of peers) peer.send(request);
      const firsts = await Promise.all(peers.map(async (peer) => (await peer.next()).packet));
      assert.deepEqual(firsts.map((p) => p.op).sort(), ['DATA', 'DATA', 'ERROR']);
      assert.equal(server.sessionCount(), 2);
      other.send(request);
      assert.equal((await other.next()).packet.op, 'DATA');
      const refused = peers[firsts.findIndex((p) => p.op === 'ERROR')];
      const served = peers[firsts.findIndex((p) => p.op === 'DATA')];
      // Once one of the two ends (its client gives up), the refused client is served.
      served?.send({ op: 'ERROR', code: 0, message: 'enough' }, (await served.next()).port);
      assert.ok(await eventually(() => server.sessionCount() === 2, 2000));
      refused?.send(request);
      assert.equal((await refused?.next())?.packet.op, 'DATA');
    } finally {
      for (const peer of [...peers, other]) peer.close();
      await server.close();
    }
  },
);

test(
  'the timeout option is capped: above the maximum it is refused, the first packet is resent after the server’s own timeout',
  { timeout: 20_000 },
  async () => {
    const server = await startTftpServer({ root, port: 0, timeoutMs: 300, maxTimeoutSeconds: 5 });
    const long = await openRawPeer(server.port);
    const short = await openRawPeer(server.port);
    try {
      long.send({
        op: 'RRQ',
        filename: 'file.bin',
        mode: 'octet',
        options: [
          ['timeout', '255'],
          ['blksize', '512'],
        ],
      });
      const started = performance.now();
      const oack = await long.next();
      assert.deepEqual(oack.packet, { op: 'OACK', options: [['blksize', '512']] });
      await long.next(1000);
      const resentAfter = performance.now() - started;
      assert.ok(resentAfter < 800, `resent after ${resentAfter.toFixed(0)} ms`);
      // Sent three times in all (two resends), then let go without an ERROR.
      assert.deepEqual(
        (await long.drain(1500)).map((p) => p.op),
        ['OACK'],
      );
      assert.equal(server.sessionCount(), 0);

      // At or under the maximum it is agreed, and used once the client has answered.
      short.send({
        op: 'RRQ',
        filename: 'file.bin',
        mode: 'octet',
        options: [
          ['timeout', '2'],
          ['blksize', '512'],
        ],
      });
      const agreed = await short.next();
      assert.deepEqual(agreed.packet, {
        op: 'OACK',
        options: [
          ['timeout', '2'],
          ['blksize', '512'],
        ],
      });
      short.send({ op: 'ACK', block: 0 }, agreed.port);
      assert.equal((await short.next()).packet.op, 'DATA');
      const sent = performance.now();
      const again = await short.next(4000);
      const gap = performance.now() - sent;
      assert.deepEqual(again.packet.op === 'DATA' ? again.packet.block : -1, 1);
      assert.ok(gap > 1700 && gap < 3000, `DATA 1 resent after ${gap.toFixed(0)} ms`);
      short.send({ op: 'ERROR', code: 0, message: 'enough' }, agreed.port);
    } finally {
      long.close();
      short.close();
      await server.close();
    }
  },
);

test(
  'a FIFO, a socket and a device in the root are refused at once, and the next request is served promptly',
  { timeout: 30_000 },
  async (t) => {
    await exec('mkfifo', [join(root, 'fifo')]);
    const unix: Server = createServer();
    await new Promise<void>((resolve) => unix.listen(join(root, 'socket'), resolve));
    // A character device node (1,3 is /dev/null's numbers): needs root, or CAP_MKNOD.
    const device = await exec('mknod', [join(root, 'device'), 'c', '1', '3']).then(
      () => true,
      (e: unknown) => {
        t.diagnostic(
          `no device node: mknod failed (${e instanceof Error ? e.message : String(e)}); that case is skipped`,
        );
        return false;
      },
    );
    const server = await startTftpServer({ root, port: 0, maxPerAddress: 64 });
    try {
      const names = ['fifo', 'socket', ...(device ? ['device'] : [])];
      // Eight requests of each at once: more than libuv's four threads, which a blocking open would hold.
      const peers = await Promise.all(
        names.flatMap((name) =>
          Array.from({ length: 8 }, async () => ({ name, peer: await openRawPeer(server.port) })),
        ),
      );
      for (const { name, peer } of peers)
        peer.send({ op: 'RRQ', filename: name, mode: 'octet', options: [] });
      for (const { name, peer } of peers) {
        const { packet } = await peer.next(2000);
        if (packet.op !== 'ERROR') throw new Error(`${name}: expected an ERROR, got ${packet.op}`);
        // A FIFO or a device opens and is found not regular (1); a socket cannot be opened at all (2).
        assert.ok(
          [TFTP_ERRORS.FILE_NOT_FOUND, TFTP_ERRORS.ACCESS_VIOLATION].includes(packet.code as 1 | 2),
          `${name}: ${packet.message}`,
        );
        peer.close();
      }
      const started = performance.now();
      assert.ok((await curlGet(server.port)).equals(file));
      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(`the next fetch took ${seconds.toFixed(3)} s`);
      assert.ok(seconds < 2, `${seconds.toFixed(3)} s`);
      assert.equal(server.sessionCount(), 0);
    } finally {
      await server.close();
      await new Promise((resolve) => unix.close(resolve));
    }
  },
);

const serverProcess = fileURLToPath(new URL('./tftp-server-process.ts', import.meta.url));

/** The peak resident memory of process `pid` so far, in bytes (VmHWM). */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return Number(m?.[1] ?? NaN) * 1024;
}

test(
  '200 transfers at once, each from a client of its own, within bounded memory',
  { timeout: 120_000 },
  async (t) => {
    const child = spawn(process.execPath, [serverProcess, root, JSON.stringify({ maxPerAddress: 8 })], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const nextLine = async (): Promise<number> => Number((await lines.next()).value);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const port = await nextLine();
      const expected = createHash('sha256').update(file).digest('hex');
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          fetchWindowed(port, 'file.bin', {
            address: `127.0.3.${String(1 + Math.floor(i / 8))}`,
            blksize: 1024,
            windowsize: 1 + (i % 16),
          }),
        ),
      );
      for (const r of results) assert.deepEqual(r, { size: file.length, sha256: expected });
      const rss = await peakRss(child.pid ?? 0);
      child.kill('SIGTERM');
      const peak = await nextLine();
      t.diagnostic(
        `200 transfers of 1 MiB: the server's Buffers held ${(peak / (1 << 20)).toFixed(1)} MiB at most, its peak RSS ${(rss / (1 << 20)).toFixed(0)} MiB`,
      );
      // Each transfer reads ahead 128 KiB at most (two reads of 64 KiB): 25 MiB for 200, not their 200 MiB.
      assert.ok(peak < 40 << 20, `${String(peak)} bytes`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  },
);
