// Benchmark: the server side of "a hundred machines in an hour". One `winsmith server` process on
// 127.0.0.1 serves AGENTS deploy agents at once, each a host process of its own (node
// src/agent/main.ts with a kernel command line file, an inventory file naming a disk image file of
// its own, and --no-finish), each with its own deployment of the sample image. The agents run at
// the lowest priority (nice 19): on a network each has a machine of its own, here they share the
// server's cores, and what is measured is the server, not its wait behind a hundred processes.
//
//   npm run bench:deploy-scale [-- AGENTS=100 [SAMPLE_BYTES=16MiB]]
//
// The data directory is made first (the sample pushed, a profile, AGENTS + 1 machines, their
// deployments created and started as a machine's boot script starts them), then the server
// process is started on it. One agent deploys alone first: its time is the baseline. Then AGENTS
// agents are started, spread over the first 10 s, while a client asks GET /api/v1/deployments
// and opens GET /api/v1/events (time to its `ready` event) every 200 ms each, and one events
// stream stays open to time how late each deployment event arrives. The server's RSS is read
// from /proc every 500 ms. The machines' disk files and the agents' scratch space are in memory
// (/dev/shm): see MACHINES_PARENT.
//
// Prints: all done or not, the time until all were done, the aggregate apply throughput against
// the one agent alone, the server's CPU time meanwhile, its peak RSS (goal ≤ 300 MB), the p50/p99 of both API calls (goal
// p99 < 200 ms) and of the events' delay.

import { spawn } from 'node:child_process';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InventoryFile } from '../src/agent/inventory.ts';
import { artifactMetaOf } from '../src/app/artifact-meta.ts';
import type { DeploymentView } from '../src/app/deployments.ts';
import { LocalApp } from '../src/app/local-app.ts';
import { pushFile } from '../src/app/transfer.ts';
import { AccountStore } from '../src/auth/account-store.ts';
import { issueToken } from '../src/auth/tokens.ts';
import { agentCommandLine } from '../src/deploy/agent-protocol.ts';
import { MiB, parseSize } from '../src/image/disk/size.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { withTempDir } from '../src/io/output.ts';
import { timed } from './timed.ts';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const AGENT = fileURLToPath(new URL('../src/agent/main.ts', import.meta.url));
const agents = Number(process.argv[2] ?? 100);
const sampleBytes = parseSize(process.argv[3] ?? '16MiB');
const DISK_BYTES = 512 * MiB;
const START_SPREAD_MS = 10_000;
const POLL_MS = 200;
const OPERATOR = { user: 'bench', client: 'bench' } as const;

interface Machine {
  readonly name: string;
  readonly mac: string;
  readonly dir: string;
}

function macOf(n: number): string {
  return `52:54:00:be:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
}

/** The data directory: the sample pushed, a profile, the machines with a started deployment each. */
async function prepare(
  data: string,
  wim: string,
  machines: readonly Machine[],
): Promise<{ token: string; started: Map<string, { id: string; token: string }> }> {
  const app = await LocalApp.openDataDir(data);
  try {
    const session = app.as(OPERATOR);
    await session.accounts.addUser({ name: 'bench', role: 'admin', scopes: [] });
    const { token } = await issueToken(new AccountStore(app.database), { userName: 'bench', name: 'bench' });
    await pushFile(session.images, wim, { name: 'bench/sample', tag: 'v1' }, await artifactMetaOf(wim));
    await session.profiles.apply(
      [
        'name: bench',
        'image: bench/sample:v1',
        'firmware: uefi',
        'disk: {}',
        'computerName: WEB-{mac6}',
        'adminPassword: generate',
        'finish: reboot',
        '',
      ].join('\n'),
      'bench.yaml',
    );
    const started = new Map<string, { id: string; token: string }>();
    for (const m of machines) {
      await session.machines.add({ name: m.name, mac: m.mac });
      const made = await session.deployments.create({ machine: m.name, profile: 'bench' });
      const boot = await app.bootPorts().registry.startDeployment(m.mac);
      if (boot === null || boot.deployment !== made.id)
        throw new Error(`no deployment started for ${m.name}`);
      started.set(m.name, { id: made.id, token: boot.token });
    }
    return { token, started };
  } finally {
    await app.close();
  }
}

/** The files an agent reads: a kernel command line and an inventory with one disk image file. */
async function agentFiles(machine: Machine, server: string, started: { id: string; token: string }) {
  const disk = join(machine.dir, 'disk.img');
  await writeFile(disk, new Uint8Array(0));
  await truncate(disk, DISK_BYTES);
  const inventory: InventoryFile = {
    firmware: 'uefi',
    secureBoot: null,
    nics: [{ name: 'eth0', mac: machine.mac }],
    disks: [
      {
        path: disk,
        model: 'WINSMITH BENCH DISK',
        vendor: 'ATA',
        serial: machine.name,
        wwn: null,
        byPath: null,
        rotational: false,
        removable: false,
        transport: 'sata',
      },
    ],
  };
  const cmdline = join(machine.dir, 'cmdline');
  const inventoryFile = join(machine.dir, 'inventory.json');
  await writeFile(cmdline, agentCommandLine(server, started.id, started.token));
  await writeFile(inventoryFile, JSON.stringify(inventory));
  return { cmdline, inventory: inventoryFile };
}

/** Runs one agent to its end; resolves with its exit code (its output kept for a failure). */
function runAgent(files: { cmdline: string; inventory: string }): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // At the lowest priority: on a network each agent has a machine of its own; here they share
    // the server's cores, and the server should not wait for CPU time behind a hundred of them.
    const child = spawn(
      'nice',
      [
        '-n',
        '19',
        process.execPath,
        AGENT,
        '--cmdline',
        files.cmdline,
        '--inventory',
        files.inventory,
        '--no-finish',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: dirname(files.cmdline) } },
    );
    let output = '';
    child.stderr.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

function startServer(data: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const server = spawn(process.execPath, [CLI, 'server', '--data', data, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (d: Buffer): void => {
      buffer = (buffer + d.toString()).slice(-20_000);
      const m = /"msg":"listening","url":"([^"]+)"/.exec(buffer);
      if (m?.[1] !== undefined) {
        server.stderr.off('data', onData);
        server.stderr.resume();
        resolve({
          url: m[1],
          pid: server.pid ?? 0,
          stop: () =>
            new Promise((done) => {
              server.once('exit', () => done());
              server.kill('SIGTERM');
            }),
        });
      }
    };
    server.stderr.on('data', onData);
    server.once('exit', (code) => reject(new Error(`server exited (${String(code)}): ${buffer}`)));
  });
}

/** CPU seconds the process has used (user and system). */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${String(pid)}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
}

function request(url: string, token: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // A connection each (no keep-alive): a reused socket the server closed would fail a call.
    get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, resolve).on('error', reject);
  });
}

/** Milliseconds for GET /api/v1/deployments, its whole body read. */
async function timeList(server: string, token: string): Promise<number> {
  const start = performance.now();
  const response = await request(`${server}/api/v1/deployments`, token);
  response.resume();
  await new Promise((resolve, reject) => response.once('end', resolve).once('error', reject));
  if (response.statusCode !== 200) throw new Error(`deployments: HTTP ${String(response.statusCode)}`);
  return performance.now() - start;
}

/** Milliseconds from opening GET /api/v1/events to its `ready` event. */
async function timeEvents(server: string, token: string): Promise<number> {
  const start = performance.now();
  const response = await request(`${server}/api/v1/events`, token);
  if (response.statusCode !== 200) throw new Error(`events: HTTP ${String(response.statusCode)}`);
  let text = '';
  for await (const piece of response as AsyncIterable<Buffer>) {
    text += piece.toString();
    if (text.includes('event: ready')) break;
  }
  response.destroy();
  return performance.now() - start;
}

/** One events stream, open until `stop`: how late each deployment event arrives after its change. */
function watchEventDelays(server: string, token: string, delays: number[]): { stop: () => void } {
  let response: IncomingMessage | null = null;
  let stopped = false;
  void request(`${server}/api/v1/events`, token).then((r) => {
    response = r;
    if (stopped) r.destroy();
    let buffer = '';
    r.on('data', (piece: Buffer) => {
      buffer += piece.toString();
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!block.includes('event: deployment') || data === undefined) continue;
        const view = (JSON.parse(data) as { result: DeploymentView }).result;
        delays.push(Date.now() - Date.parse(view.updatedAt));
      }
    });
    r.on('error', () => undefined);
  });
  return {
    stop: () => {
      stopped = true;
      response?.destroy();
    },
  };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function figures(label: string, values: readonly number[]): string {
  return `${label}: p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms (${values.length} samples)`;
}

/**
 * Where the machines' disks and the agents' scratch space go: in memory. On a network each agent
 * writes its own machine's disk; a hundred of them writing the server's disk here would make the
 * server's own small writes wait behind their writeback, which is not what is measured.
 */
const MACHINES_PARENT = '/dev/shm';

async function main(): Promise<void> {
  await withTempDir(async (dir) => {
    await withTempDir((machinesDir) => run(dir, machinesDir), 'winsmith-machines-', MACHINES_PARENT);
  });
}

async function run(dir: string, machinesDir: string): Promise<void> {
  const wim = join(dir, 'sample.wim');
  process.stderr.write(`making the sample image (${sampleBytes} bytes of files)…\n`);
  const sample = await buildSampleImage(wim, { seed: 100, size: sampleBytes });
  const machines: Machine[] = Array.from({ length: agents + 1 }, (_, n) => ({
    name: `m${String(n).padStart(3, '0')}`,
    mac: macOf(n + 1),
    dir: join(machinesDir, `m${String(n).padStart(3, '0')}`),
  }));
  await Promise.all(machines.map((m) => mkdir(m.dir)));
  const data = join(dir, 'data');
  process.stderr.write(`preparing ${machines.length} machines and their deployments…\n`);
  const { token, started } = await prepare(data, wim, machines);
  const server = await startServer(data);
  try {
    const files = await Promise.all(
      machines.map(async (m) => {
        const s = started.get(m.name);
        if (s === undefined) throw new Error(`no deployment for ${m.name}`);
        return agentFiles(m, server.url, s);
      }),
    );
    const [alone, lone] = files;
    if (alone === undefined || lone === undefined) throw new Error('no machine');
    process.stderr.write('one agent alone…\n');
    const [first, aloneSeconds] = await timed(() => runAgent(alone));
    if (first.code !== 0) throw new Error(`the lone agent failed (${first.code}):\n${first.output}`);

    const rss: number[] = [];
    const listMs: number[] = [];
    const eventsMs: number[] = [];
    const delays: number[] = [];
    const failedCalls: string[] = [];
    const watcher = watchEventDelays(server.url, token, delays);
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        rss.push(await rssKiB(server.pid, 'VmRSS'));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const poller = (async () => {
      while (sampling.on) {
        const [a, b] = await Promise.allSettled([timeList(server.url, token), timeEvents(server.url, token)]);
        if (a.status === 'fulfilled') listMs.push(a.value);
        else failedCalls.push(`deployments: ${String(a.reason)}`);
        if (b.status === 'fulfilled') eventsMs.push(b.value);
        else failedCalls.push(`events: ${String(b.reason)}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    })();
    const cpuBefore = await cpuSeconds(server.pid);
    process.stderr.write(`${agents} agents at once…\n`);
    const [results, allSeconds] = await timed(() =>
      Promise.all(
        files.slice(1).map(async (f, i) => {
          await new Promise((r) => setTimeout(r, (i * START_SPREAD_MS) / agents));
          const result = await runAgent(f);
          if (result.code !== 0) process.stderr.write(`agent ${i + 1} failed:\n${result.output}\n`);
          return result.code;
        }),
      ),
    );
    sampling.on = false;
    await Promise.all([sampler, poller]);
    watcher.stop();
    const hwm = await rssKiB(server.pid, 'VmHWM');
    const serverCpu = (await cpuSeconds(server.pid)) - cpuBefore;

    const listed = await request(`${server.url}/api/v1/deployments`, token);
    let body = '';
    for await (const piece of listed as AsyncIterable<Buffer>) body += piece.toString();
    const views = (JSON.parse(body) as { deployments: DeploymentView[] }).deployments;
    const done = views.filter((v) => v.state === 'done').length - 1;
    const exitedZero = results.filter((code) => code === 0).length;
    const bytes = sample.totalBytes;
    const aloneRate = bytes / aloneSeconds;
    const allRate = (bytes * agents) / allSeconds;
    process.stdout.write(
      [
        `sample: ${(sample.totalBytes / MiB).toFixed(1)} MiB of files, WIM ${(sample.wimBytes / MiB).toFixed(1)} MiB`,
        `done: ${done} of ${agents} (goal: all; ${exitedZero} agents exited 0)`,
        `one agent alone: ${aloneSeconds.toFixed(1)} s (${(aloneRate / MiB).toFixed(2)} MiB/s of files)`,
        `${agents} agents: all ended after ${allSeconds.toFixed(1)} s (${(allRate / MiB).toFixed(2)} MiB/s of files in all, ${(allRate / aloneRate).toFixed(2)}× the lone agent)`,
        `server CPU meanwhile: ${serverCpu.toFixed(1)} s (${((100 * serverCpu) / allSeconds).toFixed(0)}% of one core)`,
        `server RSS: peak ${(hwm / 1024).toFixed(0)} MB (VmHWM; goal ≤ 300 MB), ${(Math.max(...rss) / 1024).toFixed(0)} MB the highest sampled`,
        figures('GET /api/v1/deployments', listMs) + ' (goal p99 < 200 ms)',
        figures('GET /api/v1/events to ready', eventsMs) + ' (goal p99 < 200 ms)',
        figures('deployment events, change to arrival', delays),
        `API calls that failed: ${failedCalls.length}${failedCalls.length > 0 ? ` (first: ${failedCalls[0] ?? ''})` : ''}`,
        '',
      ].join('\n'),
    );
  } finally {
    await server.stop();
  }
}

await main();
