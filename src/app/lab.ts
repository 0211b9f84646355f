// `winsmith lab deploy`: a whole network deployment on this host, with nothing set up before. In a
// network namespace of its own (a bridge and a tap; addresses only inside it), a winsmith server
// with DHCP in full mode on the bridge serves a data directory holding the sample image and a lab
// profile. A QEMU VM (TCG) with an empty disk network-boots, registers itself and waits, pending;
// the lab approves it, deploys the profile to it and powers it on again: it boots the deploy
// environment, whose agent partitions and writes its disk and powers it off. The disk is then read
// back (partitions, boot files, BCD, Windows files) without mounting it. With `capture`, the lab
// then queues a capture of the machine and powers it on once more: it boots the deploy environment
// in capture mode, whose agent reads the disk just deployed into LAB_CAPTURE and restarts (which
// ends the VM). Everything the lab made
// (namespace, processes, files) is removed at the end, on failure and on SIGINT/SIGTERM too,
// unless it is asked to keep it. The operator's side works on the server's data directory, as
// `winsmith ... --repo DATA` does, while the server serves the machine.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, errorText } from '../core/errors.ts';
import { formatImageRef, parseImageRef } from '../core/names.ts';
import type { ProgressEvent } from '../core/progress.ts';
import { isEnded } from '../deploy/deployment-store.ts';
import { netnsUnavailable } from '../engines/netns.ts';
import { createDisk } from '../engines/qemu-img.ts';
import { requireVmFirmware, VM_FIRMWARES, type VmFirmware } from '../engines/qemu-system.ts';
import { formatSize, GiB } from '../image/disk/size.ts';
import { verifyDisk, type DiskVerification } from '../image/disk/verify.ts';
import { buildSampleImage } from '../image/sample/build-sample.ts';
import { LabNetwork } from '../lab/lab-network.ts';
import { LAB_COMPUTER_NAME, LAB_PROFILE_NAME, labProfileYaml } from '../lab/lab-profile.ts';
import { LabServer, type ServerLogLine } from '../lab/lab-server.ts';
import { LabVm } from '../lab/lab-vm.ts';
import { BootWatch } from '../lab/boot-watch.ts';
import { interrupted, waitFor } from '../io/wait-for.ts';
import { artifactMetaOf } from './artifact-meta.ts';
import { bootEnvLoaders, readBootEnvDirectory, seedBootEnvPackages } from './bootenv.ts';
import type { DeploymentView } from './deployments.ts';
import { LocalApp } from './local-app.ts';
import { localActor } from './open-session.ts';
import { listAllMachines, type Session } from './session.ts';
import type { SecureBootState } from '../machines/machine-store.ts';
import type { UefiChainSetting } from '../core/uefi-chain.ts';
import { pushFile } from './transfer.ts';

/** The firmwares a lab VM can have: UEFI (OVMF) or BIOS (SeaBIOS). */
export const LAB_FIRMWARES: readonly VmFirmware[] = VM_FIRMWARES;
export type { VmFirmware } from '../engines/qemu-system.ts';

/** The lab VM's disk: what the sample needs with room to spare, sparse (qcow2). */
export const LAB_DISK_BYTES = 8 * GiB;

/** The image the lab pushes the sample as. */
export const LAB_IMAGE = 'lab/sample:latest';

/** The image a lab capture makes. */
export const LAB_CAPTURE = 'lab/captured:latest';

/** After the VM ends, how long its deployment's last report may take to be seen. */
const LAST_REPORT_MS = 15_000;

/** After `done`, how long the VM gets to power itself off. */
const POWER_OFF_MS = 120_000;

/** The winsmith command line this module belongs to, which the lab's server runs as. */
const WINSMITH_MAIN = fileURLToPath(
  new URL(`../cli/main${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

export interface LabDeployOptions {
  readonly firmware: VmFirmware;
  /** UEFI only: the VM enforces Secure Boot (OVMF's Secure Boot build, Microsoft's keys). */
  readonly secureBoot: boolean;
  /** The server's chain for UEFI machines; null: shim with Secure Boot, else the server's default. */
  readonly uefiChain: UefiChainSetting | null;
  /** The server's data directory (kept); null: a new one in the lab's directory. */
  readonly data: string | null;
  /** A directory `winsmith bootenv build` made; null: the server builds one on first need. */
  readonly bootenv: string | null;
  /** Where the deploy environment's packages are downloaded and kept, when the server builds it. */
  readonly packageCache: string;
  /** Leave the namespace and the files for inspection. */
  readonly keep: boolean;
  /** After the deployment, capture the VM's disk back into LAB_CAPTURE. */
  readonly capture: boolean;
  /** The whole run's time limit. */
  readonly timeoutMs: number;
  /** SIGINT or SIGTERM: stop, remove what was made. */
  readonly signal: AbortSignal;
}

export type LabEvent =
  /** A step of the lab, or something the server did for the machine ("server: ..."). */
  | { readonly kind: 'step'; readonly message: string }
  | { readonly kind: 'progress'; readonly event: ProgressEvent }
  /** The deployment as it changed. */
  | { readonly kind: 'deployment'; readonly deployment: DeploymentView };

export interface LabTimes {
  /** The first power-on, to the machine registered by its boot script request. */
  readonly registrationSeconds: number;
  /** When the VM was powered on for its deployment. */
  readonly poweredOnAt: string;
  /** From that power-on: the agent online, the image applied (configuring began), done. */
  readonly agentOnlineSeconds: number | null;
  readonly appliedSeconds: number | null;
  readonly doneSeconds: number | null;
  /** The whole run, set-up and disk check included. */
  readonly totalSeconds: number;
}

export interface LabSummary {
  /** The deployment ended done and the disk would boot. */
  readonly ok: boolean;
  readonly firmware: VmFirmware;
  readonly network: {
    readonly namespace: string;
    readonly bridge: string;
    readonly address: string;
    readonly server: string;
  };
  readonly machine: {
    readonly id: string;
    readonly mac: string;
    readonly uuid: string;
    /** Its Secure Boot state as the server holds it at the end (from the agent, or GRUB). */
    readonly secureBoot: SecureBootState | null;
  };
  /** The VM enforced Secure Boot. */
  readonly secureBoot: boolean;
  readonly image: string;
  readonly profile: string;
  readonly deployment: DeploymentView;
  /** The capture after the deployment, when asked for: as it ended, with the time it took. */
  readonly capture: { readonly deployment: DeploymentView; readonly seconds: number } | null;
  readonly times: LabTimes;
  readonly disk: DiskVerification | null;
  readonly data: string;
  /** What --keep left, and the commands that remove it; null when everything was removed. */
  readonly kept: {
    readonly dir: string;
    readonly namespace: string;
    readonly remove: readonly string[];
  } | null;
}

type Emit = (event: LabEvent) => void;

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** The time the deployment first reached `state`, in ms since `from`, or null. */
function reachedAfter(d: DeploymentView, state: string, from: number): number | null {
  const at = d.history.find((h) => h.state === state)?.at;
  return at === undefined ? null : seconds(Date.parse(at) - from);
}

/** The last lines of a log, for an error. */
function tail(text: string, lines = 8): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Tells what the server does for the machine: its steps, each kind once in a power-on or as it changes. */
interface ServerNarrator {
  line(line: ServerLogLine): void;
  /** The VM was powered on: what its new boot fetches is told again. */
  poweredOn(): void;
}

function serverNarrator(mac: () => string | null, emit: Emit): ServerNarrator {
  const told = new Set<string>();
  const once = (key: string, message: string): void => {
    if (told.has(key)) return;
    told.add(key);
    emit({ kind: 'step', message: `server: ${message}` });
  };
  let lastAction = '';
  return {
    poweredOn: () => {
      told.clear();
      lastAction = '';
    },
    line: (line) => {
      const vm = mac();
      if (line.msg.startsWith('DHCP DHCPACK') && vm !== null && line.msg.includes(vm)) {
        emit({ kind: 'step', message: `server: ${line.msg.slice('DHCP '.length)}` });
      } else if (line.msg === 'TFTP transfer done') {
        once(`tftp ${String(line.file)}`, `sent ${String(line.file)} over TFTP`);
      } else if (line.msg === 'boot script' && line.mac === vm && line.action !== lastAction) {
        lastAction = String(line.action);
        emit({ kind: 'step', message: `server: boot script for ${vm}: ${lastAction}` });
      } else if (line.msg === 'boot check-in' && line.mac === vm && line.loader === 'grub') {
        once(
          'grub check-in',
          `GRUB checked in for ${vm}: Secure Boot ${line.secureBoot === true ? 'on' : 'off'}`,
        );
      } else if (line.msg === 'boot file') {
        once(`file ${String(line.name)}`, `sending ${String(line.name)} over HTTP`);
      } else if (line.msg === 'deploy environment: preparing') {
        once('env preparing', `preparing the deploy environment (${String(line.from)})`);
      } else if (line.msg === 'deploy environment: ready') {
        once(
          'env ready',
          `deploy environment ready (kernel ${String(line.kernel)}${line.built === true ? ', built now' : ''})`,
        );
      }
    },
  };
}

/** The deploy environment's failure the server logged, if any: in a lab it does not come right. */
function environmentFailure(server: LabServer): AppError | null {
  const failed = server.log().find((l) => l.msg === 'deploy environment: not available');
  if (failed === undefined) return null;
  return new AppError(
    'PROGRAM_FAILED',
    `the lab server could not prepare the deploy environment: ${String(failed.error)}`,
    {
      hint: "build one with 'winsmith bootenv build -o DIR' and give it with --bootenv DIR",
    },
  );
}

/**
 * The firmware's refusal of the boot file it was sent, if its console shows one: OVMF says
 * `BdsDxe: failed to load Boot0002 "UEFI PXEv4 ..." from ...: Access Denied` when Secure Boot
 * finds no valid signature on it (iPXE is not signed) — or `"UEFI HTTPv4 ..."` when the PXE try
 * ended otherwise (a TFTP timeout on a busy host) and HTTP boot fetched it. The status is known by
 * its first letters: OVMF's serial console drops characters when the VM is starved (TCG on a busy
 * host; seen: `Access Den`, `Ac`), and no other status of a load starts so.
 */
function firmwareRefusal(vm: LabVm): AppError | null {
  const line = /BdsDxe: failed to load [^\n]*?(?:PXE|HTTP)v[46][^\n]*?: Ac[^\n]*/.exec(
    vm.process?.output() ?? '',
  )?.[0];
  if (line === undefined) return null;
  return new AppError(
    'PROGRAM_FAILED',
    `the VM's firmware refused the boot file it was sent: ${line.replace(/\s+/g, ' ').trim()}`,
    {
      hint: 'Secure Boot runs only signed loaders: send UEFI machines to shim (--uefi-chain shim), not iPXE',
    },
  );
}

/** Everything the lab makes, to be removed (or kept) at the end. */
interface LabParts {
  dir: string;
  network: LabNetwork | null;
  vm: LabVm | null;
  app: LocalApp | null;
  deployment: string | null;
}

async function cleanUp(parts: LabParts, options: LabDeployOptions, emit: Emit): Promise<void> {
  const problems: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      problems.push(`${what}: ${errorText(e)}`);
    }
  };
  const { app, network, deployment } = parts;
  if (app !== null) {
    if (deployment !== null) {
      // A deployment cut short is cancelled, not left under way in the data directory.
      await attempt('cancelling the deployment', async () => {
        const session = app.as(localActor());
        const d = await session.deployments.show(deployment);
        if (!isEnded(d.state)) await session.deployments.cancel(deployment);
      });
    }
    await attempt('closing the data directory', () => app.close());
  }
  if (network !== null) {
    await attempt('stopping the server and the VM', () => network.stopPrograms());
    if (!options.keep) await attempt(`deleting network namespace ${network.name}`, () => network.close());
  }
  if (!options.keep)
    await attempt(`removing ${parts.dir}`, () => rm(parts.dir, { recursive: true, force: true }));
  for (const p of problems) emit({ kind: 'step', message: `clean-up: ${p}` });
}

/** The sample made and pushed as LAB_IMAGE, the lab profile applied. */
async function prepareRepository(
  session: Session,
  dir: string,
  firmware: VmFirmware,
  emit: Emit,
): Promise<void> {
  const progress = (event: ProgressEvent): void => emit({ kind: 'progress', event });
  const wim = join(dir, 'sample.wim');
  const sample = await buildSampleImage(wim, { onProgress: progress });
  const ref = parseImageRef(LAB_IMAGE);
  const pushed = await pushFile(session.images, wim, ref, await artifactMetaOf(wim), progress);
  emit({
    kind: 'step',
    message: `sample image (${sample.fileCount} files) pushed as ${formatImageRef(ref)} ${pushed.image.digest.slice(0, 12)}`,
  });
  const profile = await session.profiles.apply(labProfileYaml(LAB_IMAGE, firmware), 'lab profile');
  emit({
    kind: 'step',
    message: `profile '${profile.name}' applied: ${firmware}, computer name ${LAB_COMPUTER_NAME}, power off at the end`,
  });
}

/**
 * Follows the deployment until it ends (or the VM ends without it, or stalls), telling each change.
 */
async function followDeployment(
  session: Session,
  id: string,
  vm: LabVm,
  watch: BootWatch,
  server: LabServer,
  deadline: number,
  options: LabDeployOptions,
  emit: Emit,
): Promise<DeploymentView> {
  let seen = '';
  let vmEndedAt: number | null = null;
  return waitFor(
    `deployment ${id} to end`,
    async () => {
      const d = await session.deployments.show(id);
      if (d.updatedAt !== seen) {
        seen = d.updatedAt;
        emit({ kind: 'deployment', deployment: d });
      }
      if (isEnded(d.state)) return d;
      const failure = environmentFailure(server) ?? firmwareRefusal(vm);
      if (failure !== null) throw failure;
      if (vm.process?.running() === false) {
        vmEndedAt ??= Date.now();
        if (Date.now() - vmEndedAt > LAST_REPORT_MS) {
          throw new AppError(
            'PROGRAM_FAILED',
            `the VM stopped while its deployment was ${d.state}: ${tail(vm.process.output(), 5)}`,
            { hint: `its console is ${vm.console}` },
          );
        }
      }
      const stalled = watch.check(
        { console: vm.process?.output() ?? '', deployment: d.updatedAt, packets: await vm.sentPackets() },
        Date.now(),
      );
      if (stalled !== null) throw stalled;
      return null;
    },
    { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 1000, signal: options.signal },
  );
}

/** Runs the lab from nothing to a verified disk, and removes it all (unless kept). */
export async function runLabDeployment(options: LabDeployOptions, emit: Emit): Promise<LabSummary> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const remaining = (): number => Math.max(0, deadline - Date.now());
  const why = await netnsUnavailable();
  if (why !== null) {
    throw new AppError('USAGE', `the lab cannot make its network: ${why}`, {
      hint: 'run it as root on a Linux host with network namespaces and tap devices (ip netns, /dev/net/tun)',
    });
  }
  if (options.secureBoot && options.firmware !== 'uefi') {
    throw new AppError('USAGE', '--secure-boot is for a UEFI VM, but the firmware is bios', {
      hint: 'drop --secure-boot, or use --firmware uefi',
    });
  }
  await requireVmFirmware(options.firmware, options.secureBoot);
  if (options.bootenv !== null) {
    const prebuilt = await readBootEnvDirectory(options.bootenv);
    if (options.secureBoot) await bootEnvLoaders(prebuilt);
  }

  const parts: LabParts = {
    dir: await mkdtemp(join(tmpdir(), 'winsmith-lab-')),
    network: null,
    vm: null,
    app: null,
    deployment: null,
  };
  const check = (what: string): void => {
    if (options.signal.aborted) throw interrupted(what);
  };
  try {
    const data = options.data ?? join(parts.dir, 'data');
    emit({ kind: 'step', message: `working in ${parts.dir}; data directory ${data}` });
    parts.app = await LocalApp.openDataDir(data);
    const session = parts.app.as(localActor());
    await prepareRepository(session, parts.dir, options.firmware, emit);
    check('the sample image');
    if (options.bootenv === null) {
      await seedBootEnvPackages(data, options.packageCache, (event) => emit({ kind: 'progress', event }));
      emit({
        kind: 'step',
        message: `deploy environment packages ready in ${join(data, 'bootenv', 'debs')}: the server builds it on first need`,
      });
      check('the deploy environment packages');
    }

    const network = await LabNetwork.open({ dir: parts.dir });
    parts.network = network;
    emit({
      kind: 'step',
      message: `network namespace ${network.name}: bridge ${network.bridge} ${network.cidr}`,
    });
    const narrator = serverNarrator(() => parts.vm?.mac ?? null, emit);
    /** The progress of the VM's current power-on. */
    let watch: BootWatch | null = null;
    const uefiChain = options.uefiChain ?? (options.secureBoot ? 'shim' : null);
    const server = await LabServer.start(
      network,
      {
        main: WINSMITH_MAIN,
        data,
        bootenv: options.bootenv,
        onLog: (line) => {
          narrator.line(line);
          watch?.serverLine(line, Date.now());
        },
        ...(uefiChain === null ? {} : { uefiChain }),
      },
      options.signal,
    );
    emit({
      kind: 'step',
      message: `winsmith server on ${server.url}: DHCP (full, ${network.host(100)}-${network.host(199)}), TFTP, HTTP boot; log ${server.service.logFile ?? ''}`,
    });

    const disk = join(parts.dir, 'disk.qcow2');
    await createDisk(disk, 'qcow2', LAB_DISK_BYTES);
    const vm = await LabVm.create(network, {
      name: 'vm',
      firmware: options.firmware,
      secureBoot: options.secureBoot,
      disk: { path: disk, format: 'qcow2' },
    });
    parts.vm = vm;
    const powerOn = (): BootWatch => {
      vm.powerOn();
      narrator.poweredOn();
      watch = new BootWatch(vm.mac, vm.poweredOnAt);
      return watch;
    };
    const firstBoot = powerOn();
    emit({
      kind: 'step',
      message: `VM powered on: ${options.firmware}${options.secureBoot ? ' with Secure Boot enforced' : ''}, MAC ${vm.mac}, empty ${formatSize(LAB_DISK_BYTES)} disk; console ${vm.console}`,
    });
    const machine = await waitFor(
      `the VM (${vm.mac}) to boot and register`,
      async () => {
        if (vm.process?.running() === false) {
          throw new AppError(
            'PROGRAM_FAILED',
            `the VM ended before it registered: ${tail(vm.process.output())}`,
            {
              hint: `its console is ${vm.console}`,
            },
          );
        }
        const refused =
          firmwareRefusal(vm) ??
          firstBoot.check(
            { console: vm.process?.output() ?? '', deployment: '', packets: await vm.sentPackets() },
            Date.now(),
          );
        if (refused !== null) throw refused;
        return (await listAllMachines(session.machines, {})).find((m) => m.mac === vm.mac) ?? null;
      },
      { timeoutMs: remaining(), everyMs: 1000, signal: options.signal },
    );
    const registrationSeconds = seconds(Date.now() - vm.poweredOnAt);
    emit({
      kind: 'step',
      message: `machine ${machine.id} registered by booting (${machine.state}), after ${registrationSeconds} s`,
    });
    await session.machines.approve(machine.id);
    const queued = await session.deployments.create({ machine: machine.id, profile: LAB_PROFILE_NAME });
    parts.deployment = queued.id;
    emit({
      kind: 'step',
      message: `machine approved; deployment ${queued.id} of profile '${LAB_PROFILE_NAME}' queued`,
    });

    await vm.powerOff();
    check('the VM to power off');
    const deployBoot = powerOn();
    const poweredOnAt = vm.poweredOnAt;
    emit({ kind: 'step', message: 'VM powered on again, to be deployed' });
    const ended = await followDeployment(session, queued.id, vm, deployBoot, server, deadline, options, emit);
    if (ended.state === 'done') {
      await waitFor(
        'the VM to power off after its deployment',
        () => (vm.process?.running() === false ? true : null),
        { timeoutMs: Math.min(POWER_OFF_MS, remaining()), everyMs: 500, signal: options.signal },
      );
      emit({ kind: 'step', message: 'VM powered itself off' });
    }
    await vm.powerOff();

    let verification: DiskVerification | null = null;
    if (ended.state === 'done') {
      verification = await verifyDisk(disk);
      emit({
        kind: 'step',
        message: `disk read back: ${verification.partitions.length} partitions, ${verification.bootable ? 'bootable' : `NOT bootable (${verification.problems.join('; ')})`}`,
      });
    }
    let capture: LabSummary['capture'] = null;
    if (options.capture && verification?.bootable === true) {
      const queuedCapture = await session.deployments.capture({ machine: machine.id, tag: LAB_CAPTURE });
      parts.deployment = queuedCapture.id;
      const captureBoot = powerOn();
      const captureOnAt = vm.poweredOnAt;
      emit({
        kind: 'step',
        message: `capture ${queuedCapture.id} into ${LAB_CAPTURE} queued; VM powered on again`,
      });
      const captured = await followDeployment(
        session,
        queuedCapture.id,
        vm,
        captureBoot,
        server,
        deadline,
        options,
        emit,
      );
      if (captured.state === 'done') {
        // The capture ends with a restart, which ends the VM (-no-reboot).
        await waitFor(
          'the VM to restart after its capture',
          () => (vm.process?.running() === false ? true : null),
          { timeoutMs: Math.min(POWER_OFF_MS, remaining()), everyMs: 500, signal: options.signal },
        );
      }
      await vm.powerOff();
      capture = { deployment: captured, seconds: seconds(Date.now() - captureOnAt) };
      emit({ kind: 'step', message: `capture ${captured.state} after ${capture.seconds} s` });
    }
    const times: LabTimes = {
      registrationSeconds,
      poweredOnAt: new Date(poweredOnAt).toISOString(),
      agentOnlineSeconds: reachedAfter(ended, 'agent-online', poweredOnAt),
      appliedSeconds: reachedAfter(ended, 'configuring', poweredOnAt),
      doneSeconds: reachedAfter(ended, 'done', poweredOnAt),
      totalSeconds: seconds(Date.now() - started),
    };
    const summary: LabSummary = {
      ok:
        ended.state === 'done' &&
        verification?.bootable === true &&
        (!options.capture || capture?.deployment.state === 'done'),
      firmware: options.firmware,
      network: {
        namespace: network.name,
        bridge: network.bridge,
        address: network.cidr,
        server: server.url,
      },
      machine: {
        id: machine.id,
        mac: vm.mac,
        uuid: vm.uuid,
        secureBoot: (await session.machines.get(machine.id)).secureBoot,
      },
      secureBoot: options.secureBoot,
      image: LAB_IMAGE,
      profile: LAB_PROFILE_NAME,
      deployment: ended,
      capture,
      times,
      disk: verification,
      data,
      kept: options.keep
        ? {
            dir: parts.dir,
            namespace: network.name,
            remove: [`ip netns del ${network.name}`, `rm -rf ${parts.dir}`],
          }
        : null,
    };
    return summary;
  } finally {
    await cleanUp(parts, options, emit);
  }
}
