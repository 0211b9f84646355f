// Benchmark: the deploy agent's streamed apply against wimapply of a local file, in the same run on
// the same image.
//
//   npm run bench:deploy [-- SIZE_BYTES=1GiB [ROUNDS=2]]
//
// Makes a sample image of SIZE_BYTES of files, pushes it into a new data directory (the repository's
// default chunk sizes), makes a deployment of it and starts it as a machine's boot script does (the
// agent's token made then), serves that data directory with `winsmith server` in a process of its
// own on loopback, then times, alternately, ROUNDS times each:
//   A. the agent's apply code, in a process of its own as on a machine: the task, the manifest and
//      the chunks fetched from the server over HTTP and verified (ImageChunks), served over NBD on
//      the agent's Unix socket and mounted by nbdfuse, applied by wimapply (applyWindowsVolume:
//      mkntfs, then the apply) into an NTFS image file;
//   B. mkntfs and wimapply of the same WIM, as a local file, into an NTFS image file of the same size;
// and prints each round with the CPU time of each process, the best of each and the ratio A / B
// (the goal is ≤ 1.15).

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentClient, isRetryable } from '../src/agent/agent-client.ts';
import { parseAgentConfig } from '../src/agent/agent-config.ts';
import { ImageChunks } from '../src/agent/image-chunks.ts';
import { openNbdFile } from '../src/io/nbd-file.ts';
import { DEFAULT_RETRY, withRetry } from '../src/agent/retry.ts';
import { agentCommandLine } from '../src/deploy/agent-protocol.ts';
import { makeNtfs } from '../src/engines/ntfs.ts';
import { wimApply } from '../src/engines/wimlib.ts';
import { applyWindowsVolume } from '../src/image/disk/build.ts';
import { DEFAULT_LAYOUTS, planDisk, type PlacedPartition } from '../src/image/disk/layout.ts';
import { GiB } from '../src/image/disk/size.ts';
import { NIL_GUID } from '../src/formats/guid.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { withTempDir } from '../src/io/output.ts';
import { CHUNKER_DEFAULTS } from '../src/store/chunker.ts';
import { startDeployServer } from '../test/helpers/deploy-server.ts';
import { cpuSeconds, startServerProcess } from '../test/helpers/server-process.ts';
import { timed } from './timed.ts';

const DISK_BYTES = 40 * GiB;
const MACHINE = { name: 'bench-01', mac: '52:54:00:be:00:01' };

/** The Windows partition of the default UEFI layout on a disk of DISK_BYTES. */
function windowsPartition(): PlacedPartition {
  const windows = planDisk(DEFAULT_LAYOUTS.uefi, DISK_BYTES, {
    diskGuid: NIL_GUID,
    diskSignature: 1,
    partitionGuids: [NIL_GUID, NIL_GUID, NIL_GUID],
  }).partitions.find((p) => p.role === 'windows');
  if (windows === undefined) throw new Error('no Windows partition in the default layout');
  return windows;
}

/**
 * A data directory `data` holding `wim` and a deployment of it started, as a machine's boot script
 * starts one: the deployment, its agent's token, and the image's chunk count.
 */
async function prepare(data: string, wim: string): Promise<{ id: string; token: string; chunks: number }> {
  const local = await startDeployServer(data, wim, { chunking: CHUNKER_DEFAULTS });
  try {
    await local.applyProfile({ name: 'bench', firmware: 'uefi' });
    await local.addMachine(MACHINE.name, MACHINE.mac);
    return { ...(await local.deploy(MACHINE, 'bench')), chunks: local.manifest.chunks.length };
  } finally {
    await local.close();
  }
}

/**
 * A child process: the agent's apply of its deployment's image into `volume`; prints the bytes
 * fetched, its CPU seconds and its programs' (nbdfuse, mkntfs, wimapply).
 */
async function apply(cmdline: string, volume: string, work: string): Promise<void> {
  const client = new AgentClient(parseAgentConfig(await readFile(cmdline, 'utf8')));
  try {
    const task = await client.task();
    if ('kind' in task) throw new Error('the bench made a deployment, the server gave a capture task');
    const manifest = await client.manifest(task.image);
    const image = new ImageChunks(manifest, (chunk, index) =>
      withRetry(`chunk ${index}`, () => client.chunk(chunk.digest, chunk.size), {
        policy: DEFAULT_RETRY,
        retryable: isRetryable,
      }),
    );
    const stream = await openNbdFile(image, work, 'image.wim');
    try {
      await applyWindowsVolume(volume, windowsPartition(), stream.path, task.image.index, () => undefined);
    } finally {
      await stream.close();
    }
    const cpu = [await cpuSeconds(process.pid), await cpuSeconds(process.pid, 'children')];
    process.stdout.write(`${image.fetchedBytes} ${cpu.join(' ')}\n`);
  } finally {
    client.close();
  }
}

/** Runs this file in `mode` in a child process; resolves with what it printed. */
function child(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const run = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    run.stdout.on('data', (c: Buffer) => (out += c.toString()));
    run.on('error', reject);
    run.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args[0] ?? ''} ended with ${String(code)}`)),
    );
  });
}

function cpuText(seconds: number | undefined): string {
  return (seconds ?? Number.NaN).toFixed(2);
}

async function freshVolume(path: string, size: number): Promise<void> {
  await rm(path, { force: true });
  await writeFile(path, new Uint8Array(0));
  await truncate(path, size);
}

if (process.argv[2] === '--apply') {
  await apply(process.argv[3] ?? '', process.argv[4] ?? '', process.argv[5] ?? '');
} else {
  const imageBytes = Number(process.argv[2] ?? GiB);
  const rounds = Number(process.argv[3] ?? 2);
  await withTempDir(async (dir) => {
    const wim = join(dir, 'sample.wim');
    process.stderr.write(`making a sample image of ${imageBytes} bytes…\n`);
    const [, sampleSeconds] = await timed(() => buildSampleImage(wim, { size: imageBytes }));
    const wimBytes = (await stat(wim)).size;
    process.stderr.write(`sample: ${wimBytes} bytes of WIM in ${sampleSeconds.toFixed(1)} s\n`);
    const windows = windowsPartition();
    const data = join(dir, 'data');
    const { id, token, chunks } = await prepare(data, wim);
    // The deployment is never reported on: it must not fail as one whose agent never reported.
    const config = join(dir, 'server.yaml');
    await writeFile(config, `data: ${data}\nlisten: 127.0.0.1:0\ndeploy: { agentTimeoutSeconds: 86400 }\n`);
    const server = await startServerProcess(config, []);
    const cmdline = join(dir, 'cmdline');
    await writeFile(cmdline, agentCommandLine(server.url, id, token), { mode: 0o600 });
    try {
      const volume = join(dir, 'windows.ntfs');
      const results: { agent: number; local: number }[] = [];
      for (let round = 1; round <= rounds; round++) {
        await freshVolume(volume, windows.size);
        const work = await mkdtemp(join(dir, 'agent-'));
        const serverBefore = await cpuSeconds(server.child.pid ?? 0);
        const [printed, agent] = await timed(() => child(['--apply', cmdline, volume, work]));
        const serverCpu = (await cpuSeconds(server.child.pid ?? 0)) - serverBefore;
        const [fetched, agentCpu, programsCpu] = printed.trim().split(' ').map(Number);
        await freshVolume(volume, windows.size);
        const localBefore = await cpuSeconds(process.pid, 'children');
        const [, local] = await timed(async () => {
          await makeNtfs(volume, { label: windows.label, startSector: windows.firstLba });
          await wimApply(wim, 1, volume);
        });
        const localCpu = (await cpuSeconds(process.pid, 'children')) - localBefore;
        await rm(volume);
        results.push({ agent, local });
        process.stdout.write(
          `round ${round}: agent (streamed) ${agent.toFixed(2)} s, wimapply (local file) ${local.toFixed(2)} s, ratio ${(agent / local).toFixed(3)}, ${String(fetched)} bytes of chunks fetched\n` +
            `  CPU seconds: agent ${cpuText(agentCpu)}, its nbdfuse, mkntfs and wimapply ${cpuText(programsCpu)}, server ${cpuText(serverCpu)}; local mkntfs and wimapply ${cpuText(localCpu)}\n`,
        );
      }
      const bestAgent = Math.min(...results.map((r) => r.agent));
      const bestLocal = Math.min(...results.map((r) => r.local));
      process.stdout.write(
        [
          `server: winsmith server (src/cli/main.ts) in its own process, over loopback (${server.url})`,
          `image: ${imageBytes} bytes of files, WIM ${wimBytes} bytes in ${chunks} chunks; NTFS volume ${windows.size} bytes`,
          `agent, streamed (best):        ${bestAgent.toFixed(2)} s`,
          `wimapply, local file (best):   ${bestLocal.toFixed(2)} s`,
          `ratio: ${(bestAgent / bestLocal).toFixed(3)} (goal ≤ 1.15)`,
          '',
        ].join('\n'),
      );
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 'winsmith-bench-deploy-');
}
