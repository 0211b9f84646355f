// What the agent's process tests share: the sample image (made once per file), disk image files,
// and the agent run as the deploy environment runs it (node src/agent/main.ts) with the kernel
// command line a boot script gives, but from a file, an inventory file of disk image files, and
// --no-finish. The server it talks to is the real one (test/helpers/deploy-server.ts).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { agentCommandLine } from '../../src/deploy/agent-protocol.ts';
import { fuseAvailable } from '../../src/engines/nbd.ts';
import { NIL_GUID } from '../../src/formats/guid.ts';
import { DEFAULT_LAYOUTS, planDisk } from '../../src/image/disk/layout.ts';
import { runProgram } from '../../src/engines/run.ts';
import { MiB } from '../../src/image/disk/size.ts';
import { buildSampleImage } from '../../src/image/sample/build-sample.ts';
import type { InventoryFile } from '../../src/agent/inventory.ts';
import type { Session } from '../../src/app/session.ts';
import type { StartedDeployment } from '../helpers/deploy-server.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { extractPartition, ntfsTree, run, wimTree } from '../disk/helpers.ts';

const MAIN = fileURLToPath(new URL('../../src/agent/main.ts', import.meta.url));

/** A disk file size the sample fits on with any default layout. */
export const DISK_BYTES = 512 * MiB;

/** Why the streamed apply cannot run here, or null when it can (FUSE, nbdfuse). */
export async function streamingUnavailable(): Promise<string | null> {
  if (!(await fuseAvailable())) return 'FUSE is not available here (/dev/fuse cannot be opened)';
  for (const program of ['nbdfuse'] as const) {
    try {
      await runProgram(program, ['--version']);
    } catch {
      return `${program} is not installed`;
    }
  }
  return null;
}

/**
 * A scratch directory with the sample image (a few MiB of files) in it, made before the tests of
 * the file that calls this and removed after them.
 */
export function sampleForTests(prefix: string): { readonly dir: string; readonly wim: string } {
  const sample = { dir: '', wim: '' };
  before(async () => {
    sample.dir = await mkdtemp(join(tmpdir(), prefix));
    sample.wim = join(sample.dir, 'sample.wim');
    await buildSampleImage(sample.wim, { seed: 11, size: 6 * MiB });
  });
  after(async () => {
    await detachMountsUnder(sample.dir);
    await rm(sample.dir, { recursive: true, force: true });
  });
  return sample;
}

/**
 * Detaches, lazily, what is still mounted under `dir` (an nbdfuse or lowntfs-3g mount left by an
 * agent killed outright), so that `dir` can be removed.
 */
async function detachMountsUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point.startsWith(`${dir}/`));
  for (const point of mounts.reverse())
    await runProgram('fusermount3', ['-u', '-z', point]).catch(() => undefined);
}

export async function makeDiskFile(path: string, size = DISK_BYTES): Promise<string> {
  await writeFile(path, new Uint8Array(0));
  await truncate(path, size);
  return path;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(path) as AsyncIterable<Buffer>) hash.update(part);
  return hash.digest('hex');
}

export interface DiskEntry {
  readonly path: string;
  readonly model?: string;
  readonly serial?: string;
  readonly removable?: boolean;
}

export function inventoryOf(
  firmware: 'uefi' | 'bios',
  disks: readonly DiskEntry[],
  mac = '52:54:00:12:34:56',
): InventoryFile {
  return {
    firmware,
    secureBoot: null,
    nics: [{ name: 'eth0', mac }],
    disks: disks.map((d) => ({
      path: d.path,
      model: d.model ?? 'WINSMITH TEST DISK',
      vendor: 'ATA',
      serial: d.serial ?? null,
      wwn: null,
      byPath: null,
      rotational: false,
      removable: d.removable ?? false,
      transport: 'sata',
    })),
  };
}

export interface AgentRun {
  readonly code: number;
  /** What the agent printed on its console. */
  readonly console: string;
}

export interface RunningAgent {
  readonly pid: number;
  /** The agent's end: its exit status and console. */
  readonly done: Promise<AgentRun>;
  /** Ends what is left of the agent and the programs it started (its process group). */
  endGroup(): Promise<void>;
}

/** Whether any process of the group `pgid` is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface AgentProcessOptions {
  /** The agent's niceness (`nice -n`, and its session's autogroup): left as this process's when absent. */
  readonly nice?: number;
  /** The network namespace its udp-receiver runs in (--receive-netns). */
  readonly receiveNetns?: string;
}

/**
 * Starts the agent of `deployment` on `server` (a URL: the server's, or a proxy's) with the disks of
 * `inventory`, as a process in a group of its own. Its scratch files are in `dir`.
 */
export async function startAgentProcess(
  dir: string,
  server: string,
  deployment: StartedDeployment,
  inventory: InventoryFile,
  options: AgentProcessOptions = {},
): Promise<RunningAgent> {
  const cmdline = join(dir, 'cmdline');
  const inventoryFile = join(dir, 'inventory.json');
  const tmp = join(dir, 'agent-tmp');
  await mkdir(tmp, { recursive: true });
  await writeFile(
    cmdline,
    `BOOT_IMAGE=/vmlinuz ${agentCommandLine(server, deployment.id, deployment.token)}\n`,
  );
  await writeFile(inventoryFile, JSON.stringify(inventory));
  const command = [
    process.execPath,
    MAIN,
    '--cmdline',
    cmdline,
    '--inventory',
    inventoryFile,
    '--no-finish',
    ...(options.receiveNetns === undefined ? [] : ['--receive-netns', options.receiveNetns]),
  ];
  const [program = '', ...args] =
    options.nice === undefined ? command : ['nice', '-n', String(options.nice), ...command];
  const child = spawn(program, args, {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`the agent did not start: ${process.execPath} ${MAIN}`);
  // A group of its own is a session of its own, which the kernel schedules as a group (autogroup)
  // against every other session whatever its tasks' niceness: the niceness is the group's too.
  if (options.nice !== undefined)
    await writeFile(`/proc/${pid}/autogroup`, String(options.nice)).catch(() => undefined);
  const done = new Promise<AgentRun>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? 128 + (signal === null ? 0 : constants.signals[signal]), console: output }),
    );
  });
  return {
    pid,
    done,
    async endGroup() {
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        if (!groupAlive(pid)) return;
        process.kill(-pid, signal);
        for (let waited = 0; waited < 5000 && groupAlive(pid); waited += 50) await sleep(50);
      }
    },
  };
}

/** Runs the agent of `deployment` to its end (see startAgentProcess). */
export async function runAgentProcess(
  dir: string,
  server: string,
  deployment: StartedDeployment,
  inventory: InventoryFile,
  options: AgentProcessOptions = {},
): Promise<AgentRun> {
  const agent = await startAgentProcess(dir, server, deployment, inventory, options);
  try {
    return await agent.done;
  } finally {
    await agent.endGroup();
  }
}

/**
 * Runs the agent of `deployment` on `server` with one disk file of `work` (made if missing), UEFI,
 * as the machine `mac`: its end, and the disk.
 */
export async function runAgentOnDisk(
  work: string,
  server: string,
  deployment: StartedDeployment,
  mac: string,
): Promise<AgentRun & { readonly disk: string }> {
  const disk = await makeDiskFile(join(work, 'disk.raw'));
  const agent = await runAgentProcess(work, server, deployment, inventoryOf('uefi', [{ path: disk }], mac));
  return { ...agent, disk };
}

/** Every line the agent printed, and every line and error of its deployment on the server. */
export async function everythingSaid(session: Session, id: string, run: AgentRun): Promise<string> {
  const view = await session.deployments.show(id);
  const lines = await session.deployments.logs(id, 0);
  return [...lines.map((l) => l.line), view.error?.message ?? '', run.console].join('\n');
}

interface VerifyJson {
  bootable: boolean;
  problems: string[];
  firmware: string;
  diskId: string;
  windowsPartition: number;
  partitions: { number: number; firstLba: number }[];
}

/** The Windows volume of a deployed disk file with the default layout, copied out into `work`. */
export async function windowsVolume(disk: string, firmware: 'uefi' | 'bios', work: string): Promise<string> {
  const plan = planDisk(DEFAULT_LAYOUTS[firmware], DISK_BYTES, {
    diskGuid: NIL_GUID,
    diskSignature: 1,
    partitionGuids: [NIL_GUID, NIL_GUID, NIL_GUID],
  });
  const windows = plan.partitions.find((p) => p.role === 'windows');
  assert.ok(windows !== undefined);
  return extractPartition(disk, windows.offset, windows.size, join(work, 'windows.ntfs'));
}

/** The unattend in \Windows\Panther of a Windows volume. */
export function unattendOf(volume: string): Promise<string> {
  return run('ntfscat', [volume, '/Windows/Panther/unattend.xml']);
}

/**
 * Checks a disk file the agent deployed `wim` to: `winsmith disk verify` passes (the BCD's devices
 * are this disk's partitions), the partitions are where the default layout puts them, with an
 * identity of their own, and the Windows volume holds the image's tree (size and SHA-1 of every
 * file) and the machine's unattend in \Windows\Panther. Returns that unattend.
 */
export async function checkDeployedDisk(
  disk: string,
  firmware: 'uefi' | 'bios',
  wim: string,
  work: string,
): Promise<string> {
  const verify = await runWinsmith(['disk', 'verify', disk, '--json']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const report = JSON.parse(verify.stdout) as VerifyJson;
  assert.equal(report.bootable, true, report.problems.join('; '));
  assert.equal(report.firmware, firmware);
  const plan = planDisk(DEFAULT_LAYOUTS[firmware], DISK_BYTES, {
    diskGuid: NIL_GUID,
    diskSignature: 1,
    partitionGuids: [NIL_GUID, NIL_GUID, NIL_GUID],
  });
  assert.deepEqual(
    report.partitions.map((p) => p.firstLba),
    plan.partitions.map((p) => p.firstLba),
  );
  assert.equal(report.windowsPartition, firmware === 'uefi' ? 3 : 2);
  assert.notEqual(report.diskId, firmware === 'uefi' ? NIL_GUID : '00000000');

  const volume = await windowsVolume(disk, firmware, work);
  const unattend = await unattendOf(volume);
  const onDisk = await ntfsTree(volume);
  onDisk.delete('/Windows/Panther/unattend.xml');
  await rm(volume);
  const inWim = await wimTree(wim, 1);
  assert.ok(inWim.size > 50);
  assert.deepEqual(new Map([...onDisk].sort()), new Map([...inWim].sort()));
  return unattend;
}

/** The <Value> of an administrator password in an unattend, as Windows SIM hides it. */
export function hiddenAdminPassword(password: string): string {
  return Buffer.from(`${password}AdministratorPassword`, 'utf16le').toString('base64');
}

/** The names of the secrets `text` holds (none, it is hoped): a message may name them, not quote them. */
export function secretsIn(text: string, secrets: Readonly<Record<string, string>>): string[] {
  return Object.entries(secrets).flatMap(([name, value]) => (text.includes(value) ? [name] : []));
}
