// The agent's side of bench/deploy.ts, in a process of its own as on a machine, loading only what
// the agent loads (not the server, the store or the bench's set-up):
//
//   node bench/deploy-agent.ts CMDLINE VOLUME WORK
//
// applies the deployment that CMDLINE names into the NTFS image file VOLUME as the agent does: the
// task, the manifest and the chunks fetched from the server over HTTP and verified (ImageChunks),
// served over NBD on a Unix socket in WORK and mounted by nbdfuse, applied by wimapply
// (applyWindowsVolume: mkntfs, then the apply). It prints one line: the bytes of chunks fetched,
// the seconds from its first request to the end of the apply, and the CPU seconds it and its
// programs (nbdfuse, mkntfs, wimapply) spent in that time. Node's start and the loading of the
// code are not counted: on a machine the agent is running long before the apply begins.

import { readFile } from 'node:fs/promises';
import { AgentClient, isRetryable } from '../src/agent/agent-client.ts';
import { parseAgentConfig } from '../src/agent/agent-config.ts';
import { ImageChunks } from '../src/agent/image-chunks.ts';
import { DEFAULT_RETRY, withRetry } from '../src/agent/retry.ts';
import { openNbdFile } from '../src/io/nbd-file.ts';
import { applyWindowsVolume } from '../src/image/disk/build.ts';
import { DEFAULT_LAYOUTS, planDisk, type PlacedPartition } from '../src/image/disk/layout.ts';
import { GiB } from '../src/image/disk/size.ts';
import { NIL_GUID } from '../src/formats/guid.ts';
import { cpuSeconds } from '../test/helpers/server-process.ts';

export const DISK_BYTES = 40 * GiB;

/** The Windows partition of the default UEFI layout on a disk of DISK_BYTES. */
export function windowsPartition(): PlacedPartition {
  const windows = planDisk(DEFAULT_LAYOUTS.uefi, DISK_BYTES, {
    diskGuid: NIL_GUID,
    diskSignature: 1,
    partitionGuids: [NIL_GUID, NIL_GUID, NIL_GUID],
  }).partitions.find((p) => p.role === 'windows');
  if (windows === undefined) throw new Error('no Windows partition in the default layout');
  return windows;
}

/** What a run printed: bytes fetched, seconds, the agent's CPU seconds and its programs'. */
export interface AgentRun {
  readonly fetched: number;
  readonly seconds: number;
  readonly agentCpu: number;
  readonly programsCpu: number;
}

export function parseAgentRun(line: string): AgentRun {
  const [fetched = Number.NaN, seconds = Number.NaN, agentCpu = Number.NaN, programsCpu = Number.NaN] = line
    .trim()
    .split(' ')
    .map(Number);
  return { fetched, seconds, agentCpu, programsCpu };
}

async function apply(cmdline: string, volume: string, work: string): Promise<void> {
  const config = parseAgentConfig(await readFile(cmdline, 'utf8'));
  const cpuBefore = await cpuSeconds(process.pid);
  const started = performance.now();
  const client = new AgentClient(config);
  try {
    const task = await client.task();
    if ('kind' in task) throw new Error('the bench made a deployment, the server gave a capture task');
    const manifest = await client.manifest(task.image);
    const image = new ImageChunks(manifest, (chunk, index, into) =>
      withRetry(`chunk ${index}`, () => client.chunk(chunk.digest, chunk.size, into), {
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
    const seconds = (performance.now() - started) / 1000;
    const agentCpu = (await cpuSeconds(process.pid)) - cpuBefore;
    const programsCpu = await cpuSeconds(process.pid, 'children');
    process.stdout.write(`${image.fetchedBytes} ${seconds} ${agentCpu} ${programsCpu}\n`);
  } finally {
    client.close();
  }
}

if (import.meta.main) await apply(process.argv[2] ?? '', process.argv[3] ?? '', process.argv[4] ?? '');
