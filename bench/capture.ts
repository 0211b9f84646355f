// Benchmark: a capture through the deploy agent into a repository server on loopback, against
// plain wimcapture of the same NTFS volume into a local WIM, in the same run. Both read the volume
// the same way: partition 1 of a disk file through a read-only loop device (on a machine, both
// would read the same block device).
//
//   npm run bench:capture [-- SIZE_BYTES=1GiB [ROUNDS=2]]   (as root: the agent reads a disk file
//                                                             through a read-only loop device)
//
// Makes a sample tree of SIZE_BYTES of varied files (the sample image's generator), applies it into
// an NTFS volume made by mkntfs in a sparse file, and puts that volume as the one partition of a GPT
// disk file. Then, alternately, ROUNDS times each (A B A B):
//   A. the agent (src/agent/main.ts, a process of its own as on a machine) runs a capture of that
//      disk: inspection, wimlib's NTFS-3G mode to a pipe, the stream cut and pushed to `winsmith
//      server` (a process of its own, a new data directory each round so that nothing is already
//      there), the commit checked by the server;
//   B. wimcapture of that partition, through a read-only loop device as the agent makes one, into
//      a local WIM.
// Both use wimlib's default compression (LZX). Right before each is timed, the disk file is read
// once (bench/page-cache.ts), so that both read the volume from memory. Prints each round, the
// medians and the ratio A / B (the goal is ≤ 1.1).

import { spawn } from 'node:child_process';
import { mkdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentCommandLine } from '../src/deploy/agent-protocol.ts';
import { attachLoopReadOnly } from '../src/engines/loop.ts';
import { makeNtfs } from '../src/engines/ntfs.ts';
import { runProgram } from '../src/engines/run.ts';
import { wimApply, wimCapture } from '../src/engines/wimlib.ts';
import { GiB, MiB } from '../src/image/disk/size.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { copyFileInto, openBlockTarget } from '../src/io/block-target.ts';
import { withTempDir } from '../src/io/output.ts';
import { CHUNKER_DEFAULTS } from '../src/store/chunker.ts';
import { startDeployServer } from '../test/helpers/deploy-server.ts';
import { cpuSeconds, startServerProcess } from '../test/helpers/server-process.ts';
import { readIntoPageCache } from './page-cache.ts';
import { median, timed } from './timed.ts';

const AGENT = fileURLToPath(new URL('../src/agent/main.ts', import.meta.url));
const MACHINE = { name: 'bench-01', mac: '52:54:00:be:00:02' };
/** Where the volume starts on the disk: 1 MiB, as partitioning tools align it. */
const VOLUME_OFFSET = MiB;

/** An NTFS volume holding `wim`'s image, and a GPT disk file with it as partition 1. */
async function makeDisk(
  dir: string,
  wim: string,
  imageBytes: number,
): Promise<{ volume: string; volumeBytes: number; disk: string }> {
  const volume = join(dir, 'windows.ntfs');
  const volumeBytes = Math.ceil((imageBytes * 1.6 + 512 * MiB) / MiB) * MiB;
  await writeFile(volume, new Uint8Array(0));
  await truncate(volume, volumeBytes);
  await makeNtfs(volume, { label: 'Windows', startSector: VOLUME_OFFSET / 512 });
  await wimApply(wim, 1, volume);
  const disk = join(dir, 'disk.raw');
  await writeFile(disk, new Uint8Array(0));
  await truncate(disk, VOLUME_OFFSET + volumeBytes + MiB);
  await runProgram('sgdisk', [
    '-o',
    '-n',
    `1:${VOLUME_OFFSET / 512}:+${volumeBytes / 1024}K`,
    '-t',
    '1:0700',
    disk,
  ]);
  const block = await openBlockTarget(disk, VOLUME_OFFSET + volumeBytes + MiB);
  try {
    await copyFileInto(volume, block, VOLUME_OFFSET);
    await block.flush();
  } finally {
    await block.close();
  }
  return { volume, volumeBytes, disk };
}

/** A new data directory with the machine and a capture of it started; the capture and its token. */
async function prepareCapture(
  data: string,
  stub: string,
  round: number,
): Promise<{ id: string; token: string }> {
  const local = await startDeployServer(data, stub, { chunking: CHUNKER_DEFAULTS });
  try {
    await local.addMachine(MACHINE.name, MACHINE.mac);
    return await local.capture(MACHINE, `captured/bench:round-${round}`);
  } finally {
    await local.close();
  }
}

/** Runs the agent on `cmdline` with `disk` as the machine's one disk; rejects unless it ends done. */
function runAgent(dir: string, cmdline: string, disk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const inventory = join(dir, 'inventory.json');
    void writeFile(
      inventory,
      JSON.stringify({
        firmware: 'uefi',
        secureBoot: null,
        nics: [{ name: 'eth0', mac: MACHINE.mac }],
        disks: [
          {
            path: disk,
            model: 'BENCH DISK',
            vendor: 'ATA',
            serial: null,
            wwn: null,
            byPath: null,
            rotational: false,
            removable: false,
            transport: 'sata',
          },
        ],
      }),
    ).then(() => {
      const agent = spawn(
        process.execPath,
        [AGENT, '--cmdline', cmdline, '--inventory', inventory, '--no-finish'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let said = '';
      agent.stdout.on('data', (c: Buffer) => (said += c.toString()));
      agent.stderr.on('data', (c: Buffer) => (said += c.toString()));
      agent.on('error', reject);
      agent.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`the agent ended ${String(code)}:\n${said}`)),
      );
    }, reject);
  });
}

const imageBytes = Number(process.argv[2] ?? GiB);
const rounds = Number(process.argv[3] ?? 2);
await withTempDir(async (dir) => {
  const wim = join(dir, 'sample.wim');
  process.stderr.write(`making a sample of ${imageBytes} bytes of files…\n`);
  // Stored uncompressed: only its files matter here, applied into the volume.
  await buildSampleImage(wim, { size: imageBytes, compression: 'none' });
  const stub = join(dir, 'stub.wim');
  await buildSampleImage(stub, { size: MiB });
  const { volume, volumeBytes, disk } = await makeDisk(dir, wim, imageBytes);
  process.stderr.write(`volume: ${(await stat(volume)).size} bytes, ${imageBytes} bytes of files\n`);
  const results: { agent: number; local: number; wimBytes: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const data = join(dir, `data-${round}`);
    const { id, token } = await prepareCapture(data, stub, round);
    const config = join(dir, `server-${round}.yaml`);
    await writeFile(config, `data: ${data}\nlisten: 127.0.0.1:0\ndeploy: { agentTimeoutSeconds: 86400 }\n`);
    const server = await startServerProcess(config, []);
    const cmdline = join(dir, `cmdline-${round}`);
    await writeFile(cmdline, agentCommandLine(server.url, id, token), { mode: 0o600 });
    const work = join(dir, `agent-${round}`);
    await mkdir(work);
    let agent: number;
    let agentCpu: number;
    let serverCpu: number;
    try {
      await readIntoPageCache(disk);
      const before = await cpuSeconds(process.pid, 'children');
      const serverBefore = await cpuSeconds(server.child.pid ?? 0);
      [, agent] = await timed(() => runAgent(work, cmdline, disk));
      agentCpu = (await cpuSeconds(process.pid, 'children')) - before;
      serverCpu = (await cpuSeconds(server.child.pid ?? 0)) - serverBefore;
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await rm(data, { recursive: true, force: true });
    const out = join(dir, 'local.wim');
    await readIntoPageCache(disk);
    const localBefore = await cpuSeconds(process.pid, 'children');
    const loop = await attachLoopReadOnly(disk, VOLUME_OFFSET, volumeBytes);
    let local: number;
    try {
      [, local] = await timed(() => wimCapture(loop.path, out, { name: 'local' }));
    } finally {
      await loop.detach();
    }
    const localCpu = (await cpuSeconds(process.pid, 'children')) - localBefore;
    const wimBytes = (await stat(out)).size;
    await rm(out);
    results.push({ agent, local, wimBytes });
    process.stdout.write(
      `round ${round}: A agent capture → server ${agent.toFixed(2)} s, B wimcapture → local WIM ${local.toFixed(2)} s (${wimBytes} bytes), ratio ${(agent / local).toFixed(3)}\n` +
        `  CPU seconds: A agent with its wimcapture ${agentCpu.toFixed(1)}, server ${serverCpu.toFixed(1)}; B wimcapture ${localCpu.toFixed(1)}\n`,
    );
  }
  const a = median(results.map((r) => r.agent));
  const b = median(results.map((r) => r.local));
  process.stdout.write(
    [
      `volume: NTFS, ${imageBytes} bytes of files; partition 1 of a GPT disk file read through a read-only loop device by both`,
      `A agent capture, streamed to winsmith server on loopback (median): ${a.toFixed(2)} s`,
      `B wimcapture into a local WIM (median):                          ${b.toFixed(2)} s`,
      `ratio A / B: ${(a / b).toFixed(3)} (goal ≤ 1.1); load average at the end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${availableParallelism()} CPUs`,
      '',
    ].join('\n'),
  );
}, 'winsmith-bench-capture-');
