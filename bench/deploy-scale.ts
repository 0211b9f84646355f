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
// stream stays open to time how late each deployment event arrives: that client is a process of
// its own, as an operator's would be, not this one, which starts and watches the agents. The server's RSS is read
// from /proc every 500 ms. The machines' disk files and the agents' scratch space are in memory
// (/dev/shm): see MACHINES_PARENT.
//
// Prints: all done or not, the time until all were done, the aggregate apply throughput against
// the one agent alone, the server's CPU time meanwhile, its peak RSS (goal ≤ 300 MB), the p50/p99
// of both API calls (goal p99 < 200 ms) and of the events' delay.

import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import type { DeploymentView } from '../src/app/deployments.ts';
import { MiB, parseSize } from '../src/image/disk/size.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { withTempDir } from '../src/io/output.ts';
import { CHUNKER_DEFAULTS } from '../src/store/chunker.ts';
import { inventoryOf, makeDiskFile, runAgentProcess } from '../test/agent/agent-fixture.ts';
import { startDeployServer, type StartedDeployment } from '../test/helpers/deploy-server.ts';
import { cpuSeconds, residentBytes, startServerProcess } from '../test/helpers/server-process.ts';
import { timed } from './timed.ts';

const agents = Number(process.argv[2] ?? 100);
const sampleBytes = parseSize(process.argv[3] ?? '16MiB');
const START_SPREAD_MS = 10_000;
const POLL_MS = 200;

interface Machine {
  readonly name: string;
  readonly mac: string;
  readonly dir: string;
}

function macOf(n: number): string {
  return `52:54:00:be:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The data directory: the sample pushed, a profile, the machines with a started deployment each,
 * and an admin's token for the API.
 */
async function prepare(
  data: string,
  wim: string,
  machines: readonly Machine[],
): Promise<{ token: string; started: Map<string, StartedDeployment> }> {
  const local = await startDeployServer(data, wim, { chunking: CHUNKER_DEFAULTS });
  try {
    await local.session.accounts.addUser({ name: 'bench', role: 'admin', scopes: [] });
    const { token } = await local.session.accounts.createToken({
      name: 'bench',
      user: 'bench',
      expiresInDays: null,
    });
    await local.applyProfile({ name: 'bench', firmware: 'uefi' });
    const started = new Map<string, StartedDeployment>();
    for (const m of machines) {
      await local.addMachine(m.name, m.mac);
      started.set(m.name, await local.deploy(m, 'bench'));
    }
    return { token, started };
  } finally {
    await local.close();
  }
}

/**
 * Runs the agent of `machine` to its end, on a disk file of its own; its exit code. At the lowest
 * priority: on a network each agent has a machine of its own; here they share the server's cores,
 * and the server should not wait for CPU time behind a hundred of them.
 */
async function runAgent(machine: Machine, server: string, deployment: StartedDeployment): Promise<number> {
  const disk = await makeDiskFile(join(machine.dir, 'disk.img'));
  const inventory = inventoryOf('uefi', [{ path: disk, serial: machine.name }]);
  const run = await runAgentProcess(machine.dir, server, deployment, inventory, { nice: 19 });
  if (run.code !== 0)
    process.stderr.write(`the agent of ${machine.name} failed (${run.code}):\n${run.console}\n`);
  return run.code;
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
  const parser = createParser({
    onEvent(event) {
      if (event.event !== 'deployment') return;
      const view = (JSON.parse(event.data) as { result: DeploymentView }).result;
      delays.push(Date.now() - Date.parse(view.updatedAt));
    },
  });
  void request(`${server}/api/v1/events`, token).then((r) => {
    response = r;
    if (stopped) r.destroy();
    r.on('data', (piece: Buffer) => parser.feed(piece.toString()));
    r.on('error', () => undefined);
  });
  return {
    stop: () => {
      stopped = true;
      response?.destroy();
    },
  };
}

interface ProbeResult {
  readonly listMs: number[];
  readonly eventsMs: number[];
  readonly delays: number[];
  readonly failedCalls: string[];
}

/**
 * The API's client, in a process of its own as an operator's would be: it asks for the deployments
 * and opens the events stream every POLL_MS, and keeps one events stream open, until its stdin
 * ends; then it prints what it measured (JSON). Apart from this process, its times are not those of
 * a process that also starts and watches a hundred agents.
 */
async function probe(server: string, token: string): Promise<void> {
  const result: ProbeResult = { listMs: [], eventsMs: [], delays: [], failedCalls: [] };
  const watcher = watchEventDelays(server, token, result.delays);
  const asking = { on: true };
  process.stdin.on('end', () => (asking.on = false)).resume();
  while (asking.on) {
    const [a, b] = await Promise.allSettled([timeList(server, token), timeEvents(server, token)]);
    if (a.status === 'fulfilled') result.listMs.push(a.value);
    else result.failedCalls.push(`deployments: ${String(a.reason)}`);
    if (b.status === 'fulfilled') result.eventsMs.push(b.value);
    else result.failedCalls.push(`events: ${String(b.reason)}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  watcher.stop();
  process.stdout.write(JSON.stringify(result));
}

/** Starts the probe (the server and token go in its environment: no token on a command line). */
function startProbe(server: string, token: string): { stop: () => Promise<ProbeResult> } {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--probe'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, WINSMITH_URL: server, WINSMITH_TOKEN: token },
  });
  let out = '';
  child.stdout.on('data', (piece: Buffer) => (out += piece.toString()));
  const closed = new Promise((resolve) => child.once('close', resolve));
  return {
    stop: async () => {
      child.stdin.end();
      await closed;
      return JSON.parse(out) as ProbeResult;
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
  // The deployments are started before the server is: none may fail as never reported on meanwhile.
  const config = join(dir, 'server.yaml');
  await writeFile(config, `data: ${data}\nlisten: 127.0.0.1:0\n`);
  const server = await startServerProcess(config, []);
  const pid = server.child.pid ?? 0;
  const agentOf = (m: Machine): Promise<number> => {
    const deployment = started.get(m.name);
    if (deployment === undefined) throw new Error(`no deployment for ${m.name}`);
    return runAgent(m, server.url, deployment);
  };
  try {
    const [lone, ...many] = machines;
    if (lone === undefined) throw new Error('no machine');
    process.stderr.write('one agent alone…\n');
    const [loneCode, aloneSeconds] = await timed(() => agentOf(lone));
    if (loneCode !== 0) throw new Error('the lone agent failed');

    const rss: number[] = [];
    const probe = startProbe(server.url, token);
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        rss.push(await residentBytes(pid));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const cpuBefore = await cpuSeconds(pid);
    process.stderr.write(`${agents} agents at once…\n`);
    const [results, allSeconds] = await timed(() =>
      Promise.all(
        many.map(async (m, i) => {
          await new Promise((r) => setTimeout(r, (i * START_SPREAD_MS) / agents));
          return agentOf(m);
        }),
      ),
    );
    sampling.on = false;
    const [{ listMs, eventsMs, delays, failedCalls }] = await Promise.all([probe.stop(), sampler]);
    const hwm = await residentBytes(pid, 'VmHWM');
    const serverCpu = (await cpuSeconds(pid)) - cpuBefore;

    const listed = await request(`${server.url}/api/v1/deployments?limit=1000`, token);
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
        `server RSS: peak ${(hwm / MiB).toFixed(0)} MB (VmHWM; goal ≤ 300 MB), ${(Math.max(...rss) / MiB).toFixed(0)} MB the highest sampled`,
        figures('GET /api/v1/deployments', listMs) + ' (goal p99 < 200 ms)',
        figures('GET /api/v1/events to ready', eventsMs) + ' (goal p99 < 200 ms)',
        figures('deployment events, change to arrival', delays),
        `API calls that failed: ${failedCalls.length}${failedCalls.length > 0 ? ` (first: ${failedCalls[0] ?? ''})` : ''}`,
        '',
      ].join('\n'),
    );
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

if (process.argv[2] === '--probe')
  await probe(process.env.WINSMITH_URL ?? '', process.env.WINSMITH_TOKEN ?? '');
else await main();
