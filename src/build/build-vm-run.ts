// Runs a build's VM from a phase to the end of generalize: QEMU started again after each restart of
// the guest (which its command line turns into a stop), watched through QMP, with the phase machine of
// build-phases.ts deciding what each stop means. Each phase writes its own qcow2 layer of the disk
// (disk-<phase>.qcow2, on top of the previous phase's): the layers of finished phases are never
// written again, so a build resumes from the last finished phase by starting a fresh layer on it.
// The screen is saved every SCREENSHOT_SECONDS (screenshot.png, replaced whole) for whoever watches
// the build. A phase past its timeout, a failed step or a VM that stops too early ends the run,
// with a last screenshot kept beside the serial log.

import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import { createDisk, createOverlay } from '../engines/qemu-img.ts';
import { QmpClient } from '../engines/qmp.ts';
import { VM_FIRMWARE_FILES } from '../engines/qemu-system.ts';
import { startService, type RunningService } from '../engines/run.ts';
import { exists } from '../io/paths.ts';
import { afterReport, afterStop, startPhase, type PhaseState, type VmStop } from './build-phases.ts';
import { BUILD_PHASES, type BuildPhase, type BuildVm } from './build-recipe.ts';
import type { BuildReport } from './build-report.ts';
import { buildVmArgs, type Accelerator } from './build-vm.ts';

/** How long after the first power-on of install keys are pressed (the CD's "press any key" prompt). */
const PRESS_KEY_SECONDS = 20;
/** How often the screen is saved while the VM runs. */
export const SCREENSHOT_SECONDS = 10;
export const SCREENSHOT_FILE = 'screenshot.png';

/** The VM's screen saved as `dir`/screenshot.png, replaced whole: a reader never sees half a file. */
async function saveScreen(qmp: QmpClient, dir: string): Promise<void> {
  const partial = join(dir, `.${SCREENSHOT_FILE}.partial`);
  await qmp.screenshot(partial);
  await rename(partial, join(dir, SCREENSHOT_FILE));
}

export interface VmRunEvents {
  phase(phase: BuildPhase): void;
  /** A phase's disk is kept: the build can resume after it. */
  checkpoint(phase: BuildPhase): void;
  /** The VM was started again (after a restart of the guest). */
  boot(phase: BuildPhase, count: number): void;
  /** QEMU's command line, at each power-on. */
  qemu(args: readonly string[]): void;
}

export interface VmRunOptions {
  readonly dir: string;
  readonly vm: BuildVm;
  readonly installIso: string | null;
  readonly answerIso: string;
  /** The disk of a serviced image (qcow2), the base of the install layer; null for an empty disk. */
  readonly baseDisk: string | null;
  readonly accelerator: Accelerator;
  /** The phase to run first; earlier phases' layers are kept, this one's and later ones' remade. */
  readonly from: BuildPhase;
  readonly events: VmRunEvents;
  readonly signal: AbortSignal;
}

export function diskLayer(dir: string, phase: BuildPhase): string {
  return join(dir, `disk-${phase}.qcow2`);
}

/** A place to receive the provisioning script's reports while the VM runs. */
export class ReportInbox {
  #handler: ((r: BuildReport) => void) | null = null;
  readonly received: BuildReport[] = [];

  deliver(report: BuildReport): void {
    this.received.push(report);
    this.#handler?.(report);
  }

  listen(handler: ((r: BuildReport) => void) | null): void {
    this.#handler = handler;
  }
}

async function prepareLayer(options: VmRunOptions, phase: BuildPhase): Promise<string> {
  const layers = BUILD_PHASES.slice(BUILD_PHASES.indexOf(phase));
  for (const p of layers) await rm(diskLayer(options.dir, p), { force: true });
  const layer = diskLayer(options.dir, phase);
  const index = BUILD_PHASES.indexOf(phase);
  const below = index === 0 ? options.baseDisk : diskLayer(options.dir, BUILD_PHASES[index - 1] ?? 'install');
  if (below === null) await createDisk(layer, 'qcow2', options.vm.diskBytes);
  else await createOverlay(layer, below);
  return layer;
}

/**
 * The VM's TPM 2.0: swtpm with its state in DIR/tpm (kept across power-ons, as a machine's TPM is),
 * on a control socket QEMU connects to; it ends when QEMU disconnects.
 */
async function startTpm(dir: string): Promise<{ socket: string; service: RunningService }> {
  const state = join(dir, 'tpm');
  const socket = join(dir, 'tpm.sock');
  await mkdir(state, { recursive: true, mode: 0o700 });
  await rm(socket, { force: true });
  const service = startService('swtpm', [
    ...['socket', '--tpm2', '--tpmstate', `dir=${state}`],
    ...['--ctrl', `type=unixio,path=${socket}`, '--terminate'],
  ]);
  for (let waited = 0; !(await exists(socket)); waited += 50) {
    if (!service.running() || waited > 10_000) {
      await service.stop(1000);
      throw new AppError(
        'PROGRAM_FAILED',
        `swtpm did not start: ${service.output().trim() || 'no message'}`,
        {
          hint: 'install the Debian package swtpm, or set vm.tpm: false',
        },
      );
    }
    await sleep(50);
  }
  return { socket, service };
}

interface Stopped {
  readonly stop: VmStop | 'failed';
  readonly message?: string;
}

/** One power-on of the VM, until it stops or `fail` is called. */
async function powerOn(
  options: VmRunOptions,
  layer: string,
  state: { current: PhaseState },
  inbox: ReportInbox,
  pressKeys: boolean,
  deadline: number,
): Promise<Stopped> {
  const { dir } = options;
  const tpm = options.vm.tpm ? await startTpm(dir) : null;
  const args = buildVmArgs({
    vm: options.vm,
    accelerator: options.accelerator,
    files: {
      disk: { path: layer, format: 'qcow2' },
      installIso: options.installIso,
      answerIso: options.answerIso,
      uefi:
        options.vm.firmware === 'uefi'
          ? { code: VM_FIRMWARE_FILES.ovmfCode.path, vars: join(dir, 'vars.fd') }
          : null,
      qmpSocket: join(dir, 'qmp.sock'),
      serialLog: join(dir, 'serial.log'),
      tpmSocket: tpm === null ? null : tpm.socket,
    },
  });
  options.events.qemu(args);
  await rm(join(dir, 'qmp.sock'), { force: true });
  // Under setpriv with a parent-death signal: a winsmith killed outright takes its VM with it.
  const qemu: RunningService = startService(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...args],
    { logFile: join(dir, 'qemu.log'), appendLog: true },
  );
  let qmp: QmpClient | null = null;
  const shutdown: { reason: string | null } = { reason: null };
  let failure: string | null = null;
  let keys: NodeJS.Timeout | null = null;
  let screens: NodeJS.Timeout | null = null;
  // One screenshot at a time: two into the same partial file could rename a half-written one.
  let saving = Promise.resolve();
  const screenshot = (): Promise<void> =>
    (saving = saving.then(() => (qmp === null ? undefined : saveScreen(qmp, dir).catch(() => undefined))));
  const finish = async (message: string): Promise<void> => {
    failure ??= message;
    await screenshot();
    await qemu.stop(2000);
  };
  const onAbort = (): void => void finish('the build was cancelled');
  options.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => void finish(`${state.current.phase} did not finish within its timeout`),
    Math.max(0, deadline - Date.now()),
  );
  inbox.listen((report) => {
    const after = afterReport(state.current, report);
    state.current = after.state;
    if (after.fail !== null) void finish(after.fail);
  });
  try {
    qmp = await QmpClient.connect(join(dir, 'qmp.sock'), 30_000);
    qmp.onEvent((e) => {
      if (e.event === 'SHUTDOWN')
        shutdown.reason = typeof e.data['reason'] === 'string' ? e.data['reason'] : '';
    });
    screens = setInterval(() => {
      if (failure === null) void screenshot();
    }, SCREENSHOT_SECONDS * 1000);
    if (pressKeys) {
      const started = Date.now();
      keys = setInterval(() => {
        if (Date.now() - started > PRESS_KEY_SECONDS * 1000 && keys !== null) clearInterval(keys);
        void qmp?.sendKeys(['ret']).catch(() => undefined);
      }, 1000);
    }
  } catch (e) {
    if (!options.signal.aborted) failure ??= e instanceof Error ? e.message : String(e);
  }
  const exit = await qemu.exited;
  clearTimeout(timer);
  if (keys !== null) clearInterval(keys);
  if (screens !== null) clearInterval(screens);
  options.signal.removeEventListener('abort', onAbort);
  inbox.listen(null);
  qmp?.close();
  await tpm?.service.stop(2000);
  if (failure !== null) return { stop: 'failed', message: failure };
  if (exit.error !== null) return { stop: 'failed', message: exit.error.message };
  if (shutdown.reason === 'guest-reset') return { stop: 'restart' };
  if (shutdown.reason === 'guest-shutdown') return { stop: 'poweroff' };
  return { stop: 'ended' };
}

/**
 * Runs the VM from `options.from` until generalize is done; returns the disk to capture (the
 * generalize layer, on the layers of the phases before). Throws an AppError naming the phase, the
 * reason and the files kept.
 */
export async function runBuildVm(options: VmRunOptions, inbox: ReportInbox): Promise<string> {
  if (options.vm.firmware === 'uefi' && options.from === 'install') {
    await copyFile(VM_FIRMWARE_FILES.ovmfVars.path, join(options.dir, 'vars.fd'));
  }
  let phase: BuildPhase = options.from;
  for (;;) {
    options.events.phase(phase);
    const layer = await prepareLayer(options, phase);
    const state = { current: startPhase(phase) };
    const deadline = Date.now() + options.vm.timeouts[phase] * 1000;
    for (let boot = 1; ; boot++) {
      if (boot > 1) options.events.boot(phase, boot);
      const pressKeys = phase === 'install' && boot === 1 && options.baseDisk === null;
      const stopped = await powerOn(options, layer, state, inbox, pressKeys, deadline);
      const action =
        stopped.stop === 'failed'
          ? { kind: 'fail' as const, message: stopped.message ?? 'the VM failed' }
          : afterStop(state.current, stopped.stop);
      if (action.kind === 'boot') continue;
      if (action.kind === 'fail') {
        throw new AppError('BUILD_FAILED', `${phase}: ${action.message}`, {
          hint: `see ${join(options.dir, 'serial.log')} and ${join(options.dir, SCREENSHOT_FILE)}; resume with \`winsmith build resume\` after fixing the cause`,
        });
      }
      options.events.checkpoint(phase);
      if (action.kind === 'capture') return layer;
      phase = action.next;
      break;
    }
  }
}
