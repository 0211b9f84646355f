// Benchmark: the deploy agent's streamed apply against wimapply of a local file, in the same run on
// the same image.
//
//   npm run bench:deploy [-- SIZE_BYTES=1GiB [ROUNDS=2]]
//
// Makes a sample image of SIZE_BYTES of files, pushes it into a new data directory (the repository's
// default chunk sizes), makes a deployment of it and starts it as a machine's boot script does (the
// agent's token made then), serves that data directory with `winsmith server` in a process of its
// own on loopback, then times, alternately, ROUNDS times each:
//   A. the agent's apply code (bench/deploy-agent.ts), in a process of its own as on a machine: the
//      task, the manifest and the chunks fetched from the server over HTTP and verified
//      (ImageChunks), served over NBD on the agent's Unix socket and mounted by nbdfuse, applied by
//      wimapply (applyWindowsVolume: mkntfs, then the apply) into an NTFS image file, timed from
//      its first request to the end of the apply (the process's start is not: a machine's agent
//      has long started when its apply begins; it is printed apart);
//   B. mkntfs and wimapply of the same WIM, as a local file, into an NTFS image file of the same size;
// Right before each is timed, what it reads (the server's chunk files, the WIM) is read once
// (bench/page-cache.ts), so that both read from memory. Prints each round with the CPU time of each
// process, the best of each and the ratio A / B (the goal is ≤ 1.15).

import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentCommandLine } from '../src/deploy/agent-protocol.ts';
import { makeNtfs } from '../src/engines/ntfs.ts';
import { wimApply } from '../src/engines/wimlib.ts';
import { GiB } from '../src/image/disk/size.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { withTempDir } from '../src/io/output.ts';
import { CHUNKER_DEFAULTS } from '../src/store/chunker.ts';
import { startDeployServer } from '../test/helpers/deploy-server.ts';
import { cpuSeconds, startServerProcess } from '../test/helpers/server-process.ts';
import { parseAgentRun, windowsPartition } from './deploy-agent.ts';
import { readIntoPageCache } from './page-cache.ts';
import { timed } from './timed.ts';

const MACHINE = { name: 'bench-01', mac: '52:54:00:be:00:01' };

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

/** Runs bench/deploy-agent.ts with `args` in a child process; resolves with what it printed. */
function agentChild(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const run = spawn(
      process.execPath,
      [fileURLToPath(new URL('deploy-agent.ts', import.meta.url)), ...args],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    run.stdout.on('data', (c: Buffer) => (out += c.toString()));
    run.on('error', reject);
    run.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`the agent ended with ${String(code)}`)),
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
      await readIntoPageCache(join(data, 'blobs'));
      const serverBefore = await cpuSeconds(server.child.pid ?? 0);
      const [printed, whole] = await timed(() => agentChild([cmdline, volume, work]));
      const serverCpu = (await cpuSeconds(server.child.pid ?? 0)) - serverBefore;
      const { fetched, seconds: agent, agentCpu, programsCpu } = parseAgentRun(printed);
      await freshVolume(volume, windows.size);
      await readIntoPageCache(wim);
      const localBefore = await cpuSeconds(process.pid, 'children');
      const [, local] = await timed(async () => {
        await makeNtfs(volume, { label: windows.label, startSector: windows.firstLba });
        await wimApply(wim, 1, volume);
      });
      const localCpu = (await cpuSeconds(process.pid, 'children')) - localBefore;
      await rm(volume);
      results.push({ agent, local });
      process.stdout.write(
        `round ${round}: agent (streamed) ${agent.toFixed(2)} s (its process's start ${(whole - agent).toFixed(2)} s more), wimapply (local file) ${local.toFixed(2)} s, ratio ${(agent / local).toFixed(3)}, ${String(fetched)} bytes of chunks fetched\n` +
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
