// Benchmark: winsmith's TFTP server against atftpd and dnsmasq's TFTP, in the same run, on the same
// file, over 127.0.0.1.
//
//   npm run bench:tftp [-- SIZE_MIB=64 [ROUNDS=15]]
//
// Fetches a SIZE_MIB file (default 64 MiB) with `atftp` at blksize 1468 and windowsize 1, 4, 16,
// 64, and with `curl` at blksize 512, 1468 and 8192, from each server. Every server is a process of
// its own, started once for the whole run (winsmith's by this script run as `tftp.ts serve ROOT`,
// which prints its port), so all three pay the same scheduling and none shares an event loop with
// the benchmark. After one fetch from each that is not timed, each setting runs ROUNDS rounds, each
// round fetching from every server, the server going first rotating from round to round. On a
// shared host one fetch can take up to three times another of the same: 15 rounds give each server
// many chances at a fetch the host left alone, which its best time then is. With two
// CPUs or more, every server runs on CPU 1 and the client (and this script) on CPU 0, as for two
// machines: in lock-step each block waits for the other side to wake, and left to the scheduler,
// whether the two share a CPU (a cheap wake-up) or not (a costly one, in a VM) changes a time
// twofold from run to run. The files are in /dev/shm where there is one, and each file fetched is
// checked through one buffer reused: nothing a fetch leaves behind (dirty pages to write back,
// garbage to collect) weighs on the next one.
// Prints each server's best time, and three ratios, ≥ 1.0 when winsmith is at least as fast (or
// spends less): the best peer's best time / winsmith's; the median over rounds of the same ratio
// within a round (the servers of one round run within seconds of each other, so a host whose load
// comes and goes weighs less on it than on times taken minutes apart); and the servers' CPU time
// per fetch (the lowest peer's median / winsmith's, from /proc/PID/stat): what a server spends
// itself, which the time a lock-step fetch takes hides behind the wake-ups of both sides.
// dnsmasq does not speak windowsize (RFC 7440): atftp falls back to lock-step with it, and it is
// left out of those rows.

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { startTftpServer } from '../src/boot/tftp-server.ts';
import { runProgram } from '../src/engines/run.ts';
import { withTempDir } from '../src/io/output.ts';
import { median, timed } from './timed.ts';
import { cpuSeconds } from '../test/helpers/server-process.ts';

if (process.argv[2] === 'serve') {
  // Prints its port.
  const server = await startTftpServer({ root: process.argv[3] ?? '.', port: 0 });
  process.stdout.write(`${String(server.port)}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await new Promise(() => undefined);
}

const sizeMiB = Number(process.argv[2] ?? 64);
const rounds = Number(process.argv[3] ?? 15);
const pinned = availableParallelism() >= 2;
/** A command line run on one CPU (when there are two or more). */
function onCpu<C extends string>(cpu: number, command: C, args: string[]): [C | 'taskset', string[]] {
  return pinned ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
}
// This process (which checks each file fetched: 64 MiB read back and compared) stays off the
// servers' CPU too, all its threads.
if (pinned && process.argv[2] !== 'serve')
  await runProgram('taskset', ['-a', '-p', '-c', '0', String(process.pid)]);

/** A UDP port free right now (TCP probe on the same number; good enough on a quiet host). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

interface Server {
  readonly child: ChildProcessByStdio<null, Readable, null>;
  readonly exited: Promise<void>;
}

/** A server process (the command itself: taskset execs it, keeping its pid). */
function startServer(command: string, args: string[]): Server {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return { child, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
}

interface Setting {
  readonly label: string;
  readonly client: 'atftp' | 'curl';
  readonly blksize: number;
  readonly windowsize: number;
}

const settings: Setting[] = [
  ...[1, 4, 16, 64].map((w) => ({
    label: `atftp blksize 1468 windowsize ${w}`,
    client: 'atftp' as const,
    blksize: 1468,
    windowsize: w,
  })),
  ...[512, 1468, 8192].map((b) => ({
    label: `curl blksize ${b}`,
    client: 'curl' as const,
    blksize: b,
    windowsize: 1,
  })),
];

/** The best (lowest) time of the peers divided by winsmith's. */
function bestPeerOver(times: ReadonlyMap<string, number>): number {
  const peers = [...times].filter(([name]) => name !== 'winsmith').map(([, t]) => t);
  return Math.min(...peers) / (times.get('winsmith') ?? Infinity);
}

/** A ratio with two decimals; "—" when there is none (a fetch too short for the CPU clock's ticks). */
function shown(ratio: number): string {
  return Number.isFinite(ratio) ? ratio.toFixed(2) : '—';
}

async function fetchFile(setting: Setting, port: number, out: string): Promise<void> {
  if (setting.client === 'atftp') {
    const options = [`blksize ${setting.blksize}`, 'tsize 0'];
    if (setting.windowsize > 1) options.push(`windowsize ${setting.windowsize}`);
    await runProgram(
      ...onCpu(0, 'atftp', [
        ...options.flatMap((o) => ['--option', o]),
        '-g',
        '-r',
        'big.bin',
        '-l',
        out,
        '127.0.0.1',
        String(port),
      ]),
    );
  } else {
    await runProgram(
      ...onCpu(0, 'curl', [
        '-sS',
        '--tftp-blksize',
        String(setting.blksize),
        '-o',
        out,
        `tftp://127.0.0.1:${port}/big.bin`,
      ]),
    );
  }
}

// In memory where there is a tmpfs: a 64 MiB file written to disk is written back later, during
// the fetches that follow, on either CPU.
const scratchParent = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

await withTempDir(
  async (dir) => {
    const root = join(dir, 'root');
    await mkdir(root);
    const content = randomBytes(sizeMiB * 1024 * 1024);
    await writeFile(join(root, 'big.bin'), content, { mode: 0o644 });
    const out = join(dir, 'out.bin');
    // Each file fetched is read back into this one buffer: nothing is left for the GC to free on the
    // client's CPU during the next fetch.
    const fetched = Buffer.alloc(content.length);
    const fetchedIsContent = async (): Promise<boolean> => {
      const handle = await open(out, 'r');
      try {
        if ((await handle.stat()).size !== content.length) return false;
        for (let at = 0; at < content.length;) {
          const { bytesRead } = await handle.read(fetched, at, content.length - at, at);
          if (bytesRead === 0) return false;
          at += bytesRead;
        }
        return fetched.equals(content);
      } finally {
        await handle.close();
      }
    };

    const winsmith = startServer(
      ...onCpu(1, process.execPath, [fileURLToPath(import.meta.url), 'serve', root]),
    );
    const printed: string[] = [];
    let heard = (): void => undefined;
    createInterface({ input: winsmith.child.stdout }).on('line', (line) => {
      printed.push(line);
      heard();
    });
    const exited = winsmith.exited.then(() => {
      throw new Error("winsmith's TFTP server exited");
    });
    /** The next line winsmith's server prints. */
    const nextLine = async (): Promise<string> => {
      while (printed.length === 0) await Promise.race([new Promise<void>((r) => (heard = r)), exited]);
      return printed.shift() ?? '';
    };
    const winsmithPort = Number(await nextLine());
    const atftpdPort = await freePort();
    const atftpd = startServer(
      ...onCpu(1, 'atftpd', [
        '--daemon',
        '--no-fork',
        '--port',
        String(atftpdPort),
        '--bind-address',
        '127.0.0.1',
        '--user',
        'root.root',
        '--logfile',
        '/dev/null',
        '--maxthread',
        '100',
        root,
      ]),
    );
    // dnsmasq's TFTP port is fixed at 69.
    const dnsmasq = startServer(
      ...onCpu(1, 'dnsmasq', [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--port=0',
        '--enable-tftp',
        `--tftp-root=${root}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--user=root',
        '--pid-file=',
        '--quiet-tftp',
        '--log-facility=/dev/null',
      ]),
    );
    await new Promise((r) => setTimeout(r, 500));

    const servers = [
      { name: 'winsmith', port: winsmithPort, process: winsmith },
      { name: 'atftpd', port: atftpdPort, process: atftpd },
      { name: 'dnsmasq', port: 69, process: dnsmasq },
    ];
    const rows: string[][] = [];
    try {
      // One fetch from each server first, not timed: each starts the run warm (code compiled, file in
      // the page cache, first buffers allocated), as it is for every fetch after.
      const warmUp: Setting = { label: 'warm-up', client: 'curl', blksize: 1468, windowsize: 1 };
      for (const server of servers) await fetchFile(warmUp, server.port, out);
      for (const setting of settings) {
        const best = new Map<string, number>();
        /** Per round: the best peer's time in that round divided by winsmith's. */
        const roundRatios: number[] = [];
        /** Each server's CPU time for each fetch. */
        const cpu = new Map<string, number[]>();
        const active = servers.filter((s) => !(s.name === 'dnsmasq' && setting.windowsize > 1));
        for (let round = 0; round < rounds; round++) {
          const order = active.map((_, i) => active[(round + i) % active.length]);
          const times = new Map<string, number>();
          for (const server of order) {
            if (server === undefined) continue;
            await rm(out, { force: true });
            const cpuBefore = await cpuSeconds(server.process.child.pid ?? 0);
            const [, seconds] = await timed(() => fetchFile(setting, server.port, out));
            const used = (await cpuSeconds(server.process.child.pid ?? 0)) - cpuBefore;
            cpu.set(server.name, [...(cpu.get(server.name) ?? []), used]);
            if (!(await fetchedIsContent()))
              throw new Error(`${server.name}: ${setting.label}: the file fetched differs`);
            times.set(server.name, seconds);
            best.set(server.name, Math.min(best.get(server.name) ?? Infinity, seconds));
          }
          roundRatios.push(bestPeerOver(times));
        }
        const cell = (name: string): string => {
          const t = best.get(name);
          return t === undefined ? '—' : t.toFixed(2);
        };
        rows.push([
          setting.label,
          cell('winsmith'),
          cell('atftpd'),
          cell('dnsmasq'),
          bestPeerOver(best).toFixed(2),
          median(roundRatios).toFixed(2),
          shown(bestPeerOver(new Map([...cpu].map(([name, list]) => [name, median(list)])))),
        ]);
        process.stderr.write(`${setting.label}: done\n`);
      }
    } finally {
      for (const server of servers) server.process.child.kill('SIGTERM');
      await Promise.all(servers.map((server) => server.process.exited));
    }
    const header = [
      'setting',
      'winsmith s',
      'atftpd s',
      'dnsmasq s',
      'best peer / winsmith',
      'round median',
      'server CPU',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]): string =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
    process.stdout.write(
      `${sizeMiB} MiB over 127.0.0.1, best of ${rounds}${pinned ? ', servers on CPU 1, client on CPU 0' : ''}\n${line(header)}\n${rows.map(line).join('\n')}\n` +
        "round median: the median over rounds of the best peer's time in a round / winsmith's in the same round\n" +
        "server CPU: the lowest of the peers' median CPU time per fetch / winsmith's (user + system, all threads)\n",
    );
  },
  'winsmith-bench-tftp-',
  scratchParent,
);
