// What the agent's process tests share: the sample image (made once per file), disk image files,
// the agent run as the deploy environment runs it (node src/agent/main.ts) but with a kernel
// command line file, an inventory file of disk image files and --no-finish, and the test server
// of the protocol it talks to.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AgentTask, DiskRule } from '../../src/deploy/agent-protocol.ts';
import { fuseAvailable } from '../../src/engines/nbd.ts';
import { runProgram } from '../../src/engines/run.ts';
import { DEFAULT_LAYOUTS } from '../../src/image/disk/layout.ts';
import { MiB } from '../../src/image/disk/size.ts';
import { buildSampleImage } from '../../src/image/sample/build-sample.ts';
import type { InventoryFile } from '../../src/agent/inventory.ts';
import type { ChunkerOptions } from '../../src/store/chunker.ts';
import { startProtocolTestServer, type Faults, type ProtocolTestServer } from './protocol-test-server.ts';

const MAIN = fileURLToPath(new URL('../../src/agent/main.ts', import.meta.url));

export const TOKEN = 'wsd_test-token-6Qm1vX9ZpL3kR8sT';
export const PASSWORD = 'Adm1n-Secret!pw';
export const UNATTEND = `<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <UserAccounts><AdministratorPassword><Value>${PASSWORD}</Value><PlainText>true</PlainText></AdministratorPassword></UserAccounts>
    </component>
  </settings>
</unattend>
`;

/** Small chunks, so that a sample of a few MiB is many of them. */
export const SMALL_CHUNKS: ChunkerOptions = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };
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
  after(() => rm(sample.dir, { recursive: true, force: true }));
  return sample;
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

export function taskFor(firmware: 'uefi' | 'bios', disk: DiskRule, heartbeatSeconds = 2) {
  return {
    deployment: 'dep-1',
    machine: { id: 'machine-1', name: 'web-01', mac: '52:54:00:12:34:56' },
    firmware,
    layout: {
      firmware,
      partitions: DEFAULT_LAYOUTS[firmware].partitions.map((p) => ({ role: p.role, size: p.size })),
    },
    disk,
    image: { name: 'windows/server-2022', tag: 'sample', index: 1 },
    finish: 'reboot',
    heartbeatSeconds,
  } satisfies Omit<AgentTask, 'image'> & { image: Pick<AgentTask['image'], 'name' | 'tag' | 'index'> };
}

export interface DiskEntry {
  readonly path: string;
  readonly model?: string;
  readonly serial?: string;
  readonly removable?: boolean;
}

export function inventoryOf(firmware: 'uefi' | 'bios', disks: readonly DiskEntry[]): InventoryFile {
  return {
    firmware,
    secureBoot: null,
    nics: [{ name: 'eth0', mac: '52:54:00:12:34:56' }],
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

export function startServer(
  wim: string,
  task: ReturnType<typeof taskFor>,
  faults: Faults = {},
): Promise<ProtocolTestServer> {
  return startProtocolTestServer({
    wim,
    token: TOKEN,
    task,
    unattend: UNATTEND,
    chunker: SMALL_CHUNKS,
    faults,
  });
}

export interface AgentRun {
  readonly code: number;
  /** What the agent printed on its console. */
  readonly console: string;
}

/** Runs the agent against `server` with the disks of `inventory`, as a process, to its end. */
export async function runAgentProcess(
  dir: string,
  server: ProtocolTestServer,
  inventory: InventoryFile,
  token = TOKEN,
): Promise<AgentRun> {
  const cmdline = join(dir, 'cmdline');
  const inventoryFile = join(dir, 'inventory.json');
  const tmp = join(dir, 'agent-tmp');
  await mkdir(tmp, { recursive: true });
  await writeFile(
    cmdline,
    `BOOT_IMAGE=/vmlinuz quiet winsmith.server=${server.url} winsmith.token=${token} winsmith.deployment=dep-1\n`,
  );
  await writeFile(inventoryFile, JSON.stringify(inventory));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [MAIN, '--cmdline', cmdline, '--inventory', inventoryFile, '--no-finish'],
      { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 128, console: output }));
  });
}

/** Every line the agent reported or printed, and every error it reported. */
export function everythingSaid(server: ProtocolTestServer, run: AgentRun): string {
  const reported = server.reports.flatMap(({ report }) => [
    ...(report.log ?? []),
    report.error?.message ?? '',
  ]);
  return [...reported, run.console].join('\n');
}
