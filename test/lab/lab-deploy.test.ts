// `winsmith lab deploy` end to end, as a user runs it, under TCG: a UEFI VM deployed by a server
// that builds its deploy environment on first need (kept with --keep, then read back here: the
// disk, the machine's answer file, the data directory; then removed with the commands it printed),
// a BIOS VM deployed with a prebuilt environment (everything removed by the command itself), a run
// stopped by SIGINT mid-deployment (everything removed, exit 130), and one killed outright (its
// server and VM end with it). Under Secure Boot (OVMF's Secure Boot build, Microsoft's keys): a
// VM deployed through shim → GRUB → the signed kernel, and the same firmware refusing iPXE — what
// a server that sent Secure Boot machines to iPXE again would meet. The packages of the deploy
// environment come from .cache/bootenv-debs, which the bootenv tests fill (downloaded once).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LabSummary } from '../../src/app/lab.ts';
import type { DeploymentView } from '../../src/app/deployments.ts';
import { deleteNetns, listNetns, netnsPids, netnsUnavailable } from '../../src/engines/netns.ts';
import { ntfsReadFile } from '../../src/engines/ntfs.ts';
import { extractRange } from '../../src/engines/qemu-img.ts';
import { vmUnavailable } from '../../src/engines/qemu-system.ts';
import { waitFor } from '../../src/io/wait-for.ts';
import { removeKept } from '../helpers/lab-kept.ts';
import { REPO_ROOT, runWinsmith, type CliRun } from '../helpers/cli.ts';
import { ntfsTree, wimTree } from '../disk/helpers.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const PACKAGES = join(REPO_ROOT, '.cache', 'bootenv-debs');
/** The lab's own limit (minutes), and the test's beyond it. */
const LAB_TIMEOUT_MINUTES = '15';
const TEST_TIMEOUT_MS = 17 * 60_000;

async function skipReason(): Promise<string | false> {
  const reasons = [
    await netnsUnavailable(),
    await vmUnavailable('uefi'),
    await vmUnavailable('bios'),
    spawnSync('apt-get', ['--version']).error === undefined ? null : 'apt-get is not installed (Debian apt)',
  ];
  return reasons.find((r) => r !== null) ?? false;
}

const skip = await skipReason();

let work = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'winsmith-lab-test-'));
});
after(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

/** The lab's work folder, as its first line says. */
function workDir(run: { stderr: string }): string {
  const dir = /lab: working in (\S+);/.exec(run.stderr)?.[1];
  assert.ok(dir !== undefined, `the lab names its folder:\n${run.stderr}`);
  return dir;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** No QEMU of this MAC runs any more. */
function qemuOf(mac: string): string {
  return spawnSync('pgrep', ['-af', `mac=${mac}`])
    .stdout.toString()
    .trim();
}

/** `winsmith lab deploy ARGS --json` within the test's time, its duration told. */
async function labDeploy(t: TestContext, what: string, args: readonly string[]): Promise<CliRun> {
  const started = performance.now();
  const run = await runWinsmith(['lab', 'deploy', ...args, '--timeout', LAB_TIMEOUT_MINUTES, '--json']);
  t.diagnostic(`lab deploy (${what}): ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return run;
}

/** `winsmith lab deploy` (BIOS) sent `signal` once its stderr matches `when`; how it ended. */
async function signalLab(
  signal: NodeJS.Signals,
  when: RegExp,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, 'lab', 'deploy', '--firmware', 'bios', '--cache', PACKAGES], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  let signalled = false;
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (!signalled && when.test(stderr)) signalled = child.kill(signal);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(signalled, `the lab got as far as ${String(when)}:\n${stderr}`);
  return { code, stdout, stderr };
}

/** The lab's namespace and its VM's MAC, as its steps name them. */
function labNames(stderr: string): { namespace: string; mac: string } {
  const namespace = /network namespace (ws-lab-[0-9a-f]+):/.exec(stderr)?.[1];
  const mac = /MAC ([0-9a-f:]{17})/.exec(stderr)?.[1];
  assert.ok(namespace !== undefined && mac !== undefined, stderr);
  return { namespace, mac };
}

/** The summary, the run having ended done with a disk that would boot. */
function deployed(run: CliRun): LabSummary {
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  const summary = JSON.parse(run.stdout) as LabSummary;
  assert.equal(summary.ok, true);
  assert.equal(summary.deployment.state, 'done');
  assert.deepEqual(
    summary.deployment.history.map((h) => h.state),
    ['queued', 'booting', 'agent-online', 'partitioning', 'applying', 'configuring', 'finalizing', 'done'],
  );
  const t = summary.times;
  assert.ok(t.agentOnlineSeconds !== null && t.appliedSeconds !== null && t.doneSeconds !== null);
  assert.ok(
    0 < t.agentOnlineSeconds && t.agentOnlineSeconds <= t.appliedSeconds && t.appliedSeconds <= t.doneSeconds,
  );
  assert.ok(summary.disk?.bootable === true, JSON.stringify(summary.disk?.problems));
  // The deployment as `deploy --watch` shows it without a terminal: a line per state, the bytes.
  for (const state of ['queued', 'booting', 'agent-online', 'applying', 'done']) {
    assert.match(run.stderr, new RegExp(`Z ${summary.deployment.id} ${state}\\b`), state);
  }
  assert.match(run.stderr, /\] 100% /);
  return summary;
}

describe('winsmith lab deploy', { concurrency: true }, () => {
  test(
    'UEFI: the server builds its deploy environment, the VM is deployed and its disk would boot; --keep keeps it all until removed',
    { skip, timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const run = await labDeploy(t, 'UEFI, environment built', [
        '--firmware',
        'uefi',
        '--cache',
        PACKAGES,
        '--keep',
      ]);
      const summary = deployed(run);
      t.diagnostic(`UEFI times: ${JSON.stringify(summary.times)}`);
      // Without Secure Boot: iPXE, and the agent reads the variable off (on under Secure Boot, below).
      assert.match(run.stderr, /server: sent ipxe\.efi over TFTP\n/);
      assert.deepEqual(
        [summary.secureBoot, summary.machine.secureBoot?.on, summary.machine.secureBoot?.source],
        [false, false, 'agent'],
      );
      assert.ok(summary.kept !== null);
      const dir = summary.kept.dir;
      try {
        assert.match(run.stderr, /server: deploy environment ready \(kernel \S+, built now\)/);
        assert.ok((await listNetns()).includes(summary.network.namespace), 'the namespace is kept');
        assert.equal(qemuOf(summary.machine.mac), '', 'the VM is off');

        // The disk, read again: GPT with the ESP, the MSR and Windows; the boot files; the answer file
        // of this machine, named after its MAC.
        const disk = join(dir, 'disk.qcow2');
        const verify = await runWinsmith(['disk', 'verify', disk, '--json']);
        assert.equal(verify.code, 0, verify.stdout);
        const report = JSON.parse(verify.stdout) as NonNullable<LabSummary['disk']>;
        assert.equal(report.firmware, 'uefi');
        assert.deepEqual(
          report.partitions.map((p) => p.name),
          ['EFI system partition', 'Microsoft reserved partition', 'Basic data partition'],
        );
        for (const f of [
          '/EFI/Boot/bootx64.efi',
          '/EFI/Microsoft/Boot/bootmgfw.efi',
          '/EFI/Microsoft/Boot/BCD',
        ]) {
          assert.ok(report.bootFiles.includes(f), f);
        }
        const windows = report.partitions.find((p) => p.number === report.windowsPartition);
        assert.ok(windows !== undefined);
        const volume = join(work, 'uefi-windows.img');
        await extractRange(disk, 'qcow2', windows.firstLba * 512, windows.sectorCount * 512, volume);
        const unattend = new TextDecoder().decode(
          await ntfsReadFile(volume, '/Windows/Panther/unattend.xml'),
        );
        const mac6 = summary.machine.mac.replaceAll(':', '').slice(-6);
        assert.match(unattend, new RegExp(`<ComputerName>LAB-${mac6}</ComputerName>`, 'i'));
        // The Windows volume holds the image's tree: the size and SHA-1 of every file.
        const onDisk = await ntfsTree(volume);
        onDisk.delete('/Windows/Panther/unattend.xml');
        const inWim = await wimTree(join(dir, 'sample.wim'), 1);
        assert.ok(inWim.size > 50);
        assert.deepEqual(new Map([...onDisk].sort()), new Map([...inWim].sort()));

        // The data directory: the machine approved, its deployment done; its password in no output.
        const data = summary.data;
        const machines = await runWinsmith(['machines', '--json', '--repo', data]);
        const listed = JSON.parse(machines.stdout) as { mac: string; state: string }[];
        assert.equal(listed.find((m) => m.mac === summary.machine.mac)?.state, 'ready');
        const shown = await runWinsmith([
          'deployment',
          'show',
          summary.deployment.id,
          '--json',
          '--repo',
          data,
        ]);
        assert.equal((JSON.parse(shown.stdout) as DeploymentView).state, 'done');
        const password = await runWinsmith([
          'machine',
          'password',
          summary.machine.mac,
          '--json',
          '--repo',
          data,
        ]);
        const secret = (JSON.parse(password.stdout) as { password: string }).password;
        assert.ok(secret.length > 0);
        for (const text of [run.stdout, run.stderr, await readFile(join(dir, 'server.log'), 'utf8')]) {
          assert.ok(!text.includes(secret), 'the password is in no output or log');
        }
      } finally {
        removeKept(summary.kept);
      }
      assert.ok(!(await listNetns()).includes(summary.network.namespace));
      assert.equal(await exists(dir), false);
    },
  );

  test(
    'BIOS with a prebuilt deploy environment: deployed, the disk would boot, and nothing of the lab is left',
    { skip, timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const bootenv = join(work, 'bootenv');
      const build = await runWinsmith(['bootenv', 'build', '-o', bootenv, '--cache', PACKAGES]);
      assert.equal(build.code, 0, build.stderr);
      const run = await labDeploy(t, 'BIOS, environment prebuilt', [
        '--firmware',
        'bios',
        '--bootenv',
        bootenv,
      ]);
      const summary = deployed(run);
      t.diagnostic(`BIOS times: ${JSON.stringify(summary.times)}`);
      const disk = summary.disk;
      assert.ok(disk !== null);
      assert.equal(disk.firmware, 'bios');
      assert.deepEqual(
        disk.partitions.map((p) => [p.type, p.active]),
        [
          ['0x07', true],
          ['0x07', false],
        ],
      );
      for (const f of ['/bootmgr', '/Boot/BCD']) assert.ok(disk.bootFiles.includes(f), f);
      assert.equal(disk.windowsPaths['/Windows/System32/winload.exe'], true);
      assert.match(run.stderr, /server: deploy environment ready \(kernel \S+\)\n/, 'read, not built');
      assert.equal(summary.kept, null);
      assert.ok(!(await listNetns()).includes(summary.network.namespace));
      assert.equal(await exists(workDir(run)), false);
      assert.equal(qemuOf(summary.machine.mac), '');
    },
  );

  test(
    'SIGINT in the middle of a deployment: the lab stops, removes all it made, and exits 130',
    { skip, timeout: TEST_TIMEOUT_MS },
    async () => {
      const { code, stdout, stderr } = await signalLab('SIGINT', /lab: VM powered on again/);
      assert.equal(code, 130, stderr);
      assert.equal(stdout, '');
      assert.match(stderr, /lab: SIGINT: stopping, and removing what the lab made\n/);
      assert.match(
        stderr.trimEnd().split('\n').at(-1) ?? '',
        /^error: stopped by a signal while waiting for /,
      );
      const { namespace, mac } = labNames(stderr);
      assert.ok(!(await listNetns()).includes(namespace));
      assert.equal(await exists(workDir({ stderr })), false);
      assert.equal(qemuOf(mac), '');
    },
  );

  test(
    'SIGKILL: the lab cannot clean up, but its server and VM end with it',
    { skip, timeout: TEST_TIMEOUT_MS },
    async () => {
      const { stderr } = await signalLab('SIGKILL', /lab: VM powered on:/);
      const { namespace, mac } = labNames(stderr);
      try {
        await waitFor(
          'the server and the VM to end',
          async () => ((await netnsPids(namespace)).length === 0 ? true : null),
          { timeoutMs: 20_000 },
        );
        assert.equal(qemuOf(mac), '');
      } finally {
        await deleteNetns(namespace);
        await rm(workDir({ stderr }), { recursive: true, force: true });
      }
    },
  );
});

/** The Secure Boot tests also need OVMF's Secure Boot build and Microsoft's keys. */
const secureSkip = skip === false ? ((await vmUnavailable('uefi', true)) ?? false) : skip;

describe('winsmith lab deploy --secure-boot', () => {
  test(
    'Secure Boot enforced: shim → GRUB → the signed kernel, the agent reports Secure Boot on, done',
    { skip: secureSkip, timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const run = await labDeploy(t, 'UEFI Secure Boot', [
        '--firmware',
        'uefi',
        '--secure-boot',
        '--cache',
        PACKAGES,
      ]);
      const summary = deployed(run);
      t.diagnostic(`Secure Boot times: ${JSON.stringify(summary.times)}`);
      const mac = summary.machine.mac;
      assert.equal(summary.secureBoot, true);
      // The chain as the server served it: shim by DHCP, GRUB and the configs over TFTP.
      assert.match(run.stderr, new RegExp(`server: DHCPACK to ${mac} \\S+ file shimx64\\.efi\\n`));
      assert.match(run.stderr, /server: sent grubx64\.efi over TFTP\n/);
      assert.match(run.stderr, new RegExp(`server: GRUB checked in for ${mac}: Secure Boot on\\n`));
      assert.match(run.stderr, new RegExp(`server: boot script for ${mac}: deploy\\n`));
      assert.match(run.stderr, /server: sent \/winsmith-[0-9a-f]+-initrd\.img over TFTP\n/);
      assert.ok(!run.stderr.includes('ipxe.efi'), 'no iPXE on the way');
      // The agent read the SecureBoot variable from efivarfs: the machine's state is its report.
      assert.equal(summary.machine.secureBoot?.on, true);
      assert.equal(summary.machine.secureBoot.source, 'agent');
    },
  );

  test(
    'the same firmware refuses iPXE: the lab stops at the refusal, no boot script, no check-in',
    { skip: secureSkip, timeout: 8 * 60_000 },
    async (t) => {
      const started = performance.now();
      const run = await runWinsmith([
        'lab',
        'deploy',
        '--firmware',
        'uefi',
        '--secure-boot',
        '--uefi-chain',
        'ipxe',
        '--cache',
        PACKAGES,
        '--timeout',
        '5',
        '--json',
      ]);
      t.diagnostic(`lab deploy (Secure Boot, iPXE): ${((performance.now() - started) / 1000).toFixed(0)} s`);
      assert.notEqual(run.code, 0, run.stdout);
      const { mac } = labNames(run.stderr);
      assert.match(run.stderr, new RegExp(`server: DHCPACK to ${mac} \\S+ file ipxe\\.efi\\n`));
      assert.match(run.stderr, /server: sent ipxe\.efi over TFTP\n/);
      // Refused as fetched by PXE, or by HTTP boot after a PXE try that timed out on a busy host;
      // "Access Denied" as the console shows it, which drops characters on a busy host.
      assert.match(
        run.stderr,
        /"message":"the VM's firmware refused the boot file it was sent: BdsDxe: failed to load Boot\d+ \\"UEFI (PXE|HTTP)v4 [^\n]*: Ac[^\n]*"/,
      );
      for (const never of ['boot script for', 'checked in', 'registered by booting', 'agent-online']) {
        assert.ok(!run.stderr.includes(never), never);
      }
      assert.equal(qemuOf(mac), '');
    },
  );
});
