// fake-windows-guest: what stands in, in the build tests, for the one thing that cannot run here —
// Windows Setup and the provisioning script inside a Windows VM. It is the deploy environment's
// Linux (its kernel and initramfs, this program run by its /init in place of the agent), booted
// from a fake installation ISO by GRUB, and it does what Windows would do with the same inputs:
//
//   Setup       reads autounattend.xml from the answer CD (the edition's index, the partition),
//               lays out disk 0 as the BIOS answer file says (an active system partition, Windows),
//               applies install.wim's image to the Windows partition, makes the disk boot (GRUB in
//               the MBR, this same Linux on the system partition) and restarts;
//   or, serviced: with no installation media, booted from the disk winsmith made of a stored image
//               (whose boot manager starts this Linux), it checks the image's Windows is on the
//               disk and restarts, as the serviced Windows does after its specialize pass;
//   first logon reports `installed` and restarts, as provision.ps1's first run does;
//   provisioning runs the plan's steps from where it stopped, reporting each (a `restart` step
//               restarts; a PowerShell script holding "fake-windows-guest: hang" never ends), then
//               reports `provisioned` and restarts;
//   Sysprep     reports `generalize` and powers off.
//
// Its state is a file on the system partition, as Windows keeps its own on its disk. Bundled with
// esbuild into one file (the test does it) and run by Node in the guest.

import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeGrubCoreImage, readGrubBootImage } from '../../src/engines/grub.ts';
import { placeGrubPc } from '../../src/formats/grub-pc.ts';

interface Plan {
  readonly reportUrl: string;
  readonly token: string;
  readonly steps: readonly { readonly kind: string; readonly script?: string }[];
}

interface State {
  stage: 'firstlogon' | 'provision' | 'generalize' | 'done';
  next: number;
}

const DISK = '/dev/sda';
const SYSTEM = `${DISK}1`;
const WINDOWS = `${DISK}2`;
const STATE_FILE = 'fake-windows-guest.json';
const KERNEL_CMDLINE = 'console=ttyS0,115200 quiet winsmith.dhcptimeout=30';

function log(text: string): void {
  process.stdout.write(`fake-windows-guest: ${text}\n`);
}

function run(program: string, args: readonly string[], input?: string): string {
  return execFileSync(program, args, {
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'],
  }).toString();
}

function mountCds(): { answer: string; install: string | null } {
  try {
    run('insmod', ['/isofs.ko']);
  } catch {
    log('isofs is loaded already');
  }
  let answer: string | null = null;
  let install: string | null = null;
  for (const name of ['sr0', 'sr1', 'sr2', 'sr3']) {
    if (!existsSync(`/dev/${name}`)) continue;
    const dir = `/cd/${name}`;
    mkdirSync(dir, { recursive: true });
    try {
      run('mount', ['-t', 'iso9660', '-o', 'ro', `/dev/${name}`, dir]);
    } catch {
      continue;
    }
    if (existsSync(`${dir}/winsmith/plan.json`)) answer = dir;
    if (existsSync(`${dir}/sources/install.wim`)) install = dir;
  }
  if (answer === null) throw new Error('no answer media (a CD with winsmith/plan.json)');
  return { answer, install };
}

function readState(): State | null {
  if (!existsSync(SYSTEM)) return null;
  try {
    return JSON.parse(run('ntfscat', [SYSTEM, STATE_FILE])) as State;
  } catch {
    return null;
  }
}

function writeState(state: State): void {
  writeFileSync('/tmp/state.json', JSON.stringify(state));
  run('ntfscp', ['-f', SYSTEM, '/tmp/state.json', STATE_FILE]);
}

async function report(plan: Plan, body: Record<string, unknown>): Promise<void> {
  for (let attempt = 1; attempt <= 10; attempt++) {
    try {
      const res = await fetch(plan.reportUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${plan.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.ok) return;
      log(`report ${JSON.stringify(body)}: HTTP ${res.status}`);
    } catch (e) {
      log(`report ${JSON.stringify(body)}: ${(e as Error).message}`);
    }
    await sleep(2000);
  }
}

function restart(how: 'reboot' | 'poweroff'): never {
  run('sync', []);
  log(how);
  run(how, ['-f']);
  throw new Error(`${how} returned`);
}

/** A serviced image's first boot: its Windows must be the disk's, whole. */
function serviced(): never {
  for (const [folder, name] of [
    ['/Windows/System32/config', 'SYSTEM'],
    ['/fake', 'vmlinuz'],
  ] as const) {
    if (!run('ntfsls', ['-p', folder, WINDOWS]).split('\n').includes(name)) {
      throw new Error(`${WINDOWS} has no ${folder}/${name}: it is not the serviced image's Windows`);
    }
  }
  log(`servicing: the image's Windows is on ${WINDOWS}`);
  writeState({ stage: 'firstlogon', next: 0 });
  restart('reboot');
}

async function setup(cds: { answer: string; install: string | null }): Promise<void> {
  if (cds.install === null) return serviced();
  const unattend = readFileSync(`${cds.answer}/autounattend.xml`, 'utf8');
  const index = /<Key>\/IMAGE\/INDEX<\/Key>\s*<Value>(\d+)<\/Value>/.exec(unattend)?.[1];
  const partition = /<InstallTo>\s*<DiskID>0<\/DiskID>\s*<PartitionID>(\d+)<\/PartitionID>/.exec(
    unattend,
  )?.[1];
  if (index === undefined || partition !== '2') {
    throw new Error(
      `the answer file does not install an edition on partition 2 (${String(index)}, ${String(partition)})`,
    );
  }
  log(`setup: edition ${index} onto ${WINDOWS}`);
  run('sfdisk', ['--quiet', DISK], 'label: dos\nstart=2048, size=500MiB, type=7, bootable\ntype=7\n');
  for (let n = 0; n < 50 && !existsSync(WINDOWS); n++) await sleep(100);
  run('mkntfs', ['-Q', '-F', '-L', 'System', SYSTEM]);
  run('mkntfs', ['-Q', '-F', '-L', 'Windows', WINDOWS]);
  run('wimlib-imagex', ['apply', `${cds.install}/sources/install.wim`, index, WINDOWS]);
  run('ntfscp', [SYSTEM, `${cds.install}/fake/vmlinuz`, 'vmlinuz']);
  run('ntfscp', [SYSTEM, `${cds.install}/fake/initrd.img`, 'initrd.img']);
  writeFileSync(
    '/tmp/embed.cfg',
    `set root=(hd0,msdos1)\nlinux /vmlinuz ${KERNEL_CMDLINE}\ninitrd /initrd.img\nboot\n`,
  );
  const core = await makeGrubCoreImage('/tmp/core.img', '/tmp/embed.cfg', '(hd0,msdos1)/boot/grub', [
    'biosdisk',
    'part_msdos',
    'ntfs',
    'linux',
  ]);
  const mbr = new Uint8Array(512);
  const fd = openSync(DISK, 'r');
  try {
    readSync(fd, mbr, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  const placed = placeGrubPc(mbr, await readGrubBootImage(), core, 1, 2048);
  writeFileSync('/tmp/mbr.bin', placed.mbr);
  writeFileSync('/tmp/core.bin', placed.core);
  run('dd', ['if=/tmp/mbr.bin', `of=${DISK}`, 'conv=notrunc,fsync', 'status=none']);
  run('dd', ['if=/tmp/core.bin', `of=${DISK}`, 'bs=512', 'seek=1', 'conv=notrunc,fsync', 'status=none']);
  writeState({ stage: 'firstlogon', next: 0 });
  restart('reboot');
}

async function provision(plan: Plan, answer: string, state: State): Promise<never> {
  for (let i = state.next; i < plan.steps.length; i++) {
    const step = plan.steps[i];
    if (step === undefined) break;
    await report(plan, { event: 'start', step: i, kind: step.kind, round: 0 });
    if (step.kind === 'powershell' && step.script !== undefined) {
      const script = readFileSync(`${answer}/winsmith/${step.script}`, 'utf8');
      if (script.includes('fake-windows-guest: hang')) {
        log(`step ${i + 1} hangs, as its script asks`);
        await new Promise(() => undefined);
      }
    }
    await report(plan, { event: 'end', step: i, ok: true, output: `fake-windows-guest ran ${step.kind}\n` });
    writeState({ stage: 'provision', next: i + 1 });
    if (step.kind === 'restart') {
      await report(plan, { event: 'restart', step: i + 1, round: 0 });
      restart('reboot');
    }
  }
  await report(plan, { event: 'provisioned' });
  writeState({ stage: 'generalize', next: plan.steps.length });
  restart('reboot');
}

async function main(): Promise<void> {
  const cds = mountCds();
  const plan = JSON.parse(readFileSync(`${cds.answer}/winsmith/plan.json`, 'utf8')) as Plan;
  const state = readState();
  log(`stage ${state?.stage ?? 'setup'}`);
  if (state === null) return setup(cds);
  switch (state.stage) {
    case 'firstlogon':
      await report(plan, { event: 'installed' });
      writeState({ stage: 'provision', next: 0 });
      return restart('reboot');
    case 'provision':
      return provision(plan, cds.answer, state);
    case 'generalize':
      await report(plan, { event: 'generalize' });
      writeState({ stage: 'done', next: plan.steps.length });
      return restart('poweroff');
    case 'done':
      return restart('poweroff');
  }
}

// A failure powers the VM off, as a Windows that cannot go on would stop: the build fails at once,
// with this line in its serial log, instead of waiting for its timeout.
main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  restart('poweroff');
});
