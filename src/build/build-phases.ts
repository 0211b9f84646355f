// The phases of a build VM's life and what ends each, as a pure function of what happens: the
// reports of the provisioning script and the ways the VM stops. QEMU runs with its guest's
// restarts turned into stops (-action reboot=shutdown), so every restart of Windows is a moment the
// disk is at rest; the restart that follows the report ending a phase is where that phase's disk
// is kept (a qcow2 layer frozen, a new one on top), which a resumed build starts again from.
//
//   install     Windows Setup, its own restarts, the first logon; ends with `installed` + restart
//   provision   the recipe's steps and their restarts; ends with `provisioned` + restart
//   generalize  Sysprep; ends with `generalize` + the VM powering itself off
//
// Anything else ends the build: a step that fails, the VM powering off early, QEMU ending on its
// own, a phase running past its timeout (handled by the runner, which takes a screenshot first).

import type { BuildPhase } from './build-recipe.ts';
import type { BuildReport } from './build-report.ts';

export interface PhaseState {
  readonly phase: BuildPhase;
  /** The report that ends the phase has come; the next stop of the VM ends it. */
  readonly ending: boolean;
}

/** How a VM run stopped: the guest restarted, the guest powered off, or QEMU ended otherwise. */
export type VmStop = 'restart' | 'poweroff' | 'ended';

export type PhaseAction =
  /** Start the VM again on the same disk. */
  | { readonly kind: 'boot' }
  /** Keep the disk as the end of `phase`, then start the VM again for the next phase. */
  | { readonly kind: 'checkpoint'; readonly phase: BuildPhase; readonly next: BuildPhase }
  /** Keep the disk as the end of generalize: the VM's work is done, capture it. */
  | { readonly kind: 'capture' }
  | { readonly kind: 'fail'; readonly message: string };

const ENDING_REPORT: Readonly<Record<BuildPhase, BuildReport['event']>> = {
  install: 'installed',
  provision: 'provisioned',
  generalize: 'generalize',
};

const NEXT: Readonly<Record<BuildPhase, BuildPhase | null>> = {
  install: 'provision',
  provision: 'generalize',
  generalize: null,
};

export function startPhase(phase: BuildPhase): PhaseState {
  return { phase, ending: false };
}

/** The state after a report; a failed step ends the build. */
export function afterReport(
  state: PhaseState,
  report: BuildReport,
): { state: PhaseState; fail: string | null } {
  if (report.event === 'end' && !report.ok) {
    const output = report.output.trim();
    return {
      state,
      fail: `provision step ${report.step + 1} failed${output === '' ? '' : `: ${output.split('\n').at(-1) ?? ''}`}`,
    };
  }
  if (report.event === ENDING_REPORT[state.phase]) return { state: { ...state, ending: true }, fail: null };
  return { state, fail: null };
}

/** What to do when the VM has stopped. */
export function afterStop(state: PhaseState, stop: VmStop): PhaseAction {
  if (stop === 'ended') {
    return { kind: 'fail', message: `QEMU ended on its own during ${state.phase} (see its log)` };
  }
  const next = NEXT[state.phase];
  if (stop === 'restart') {
    if (!state.ending) return { kind: 'boot' };
    if (next === null) {
      return { kind: 'fail', message: 'the VM restarted during Sysprep instead of powering off' };
    }
    return { kind: 'checkpoint', phase: state.phase, next };
  }
  if (state.phase === 'generalize' && state.ending) return { kind: 'capture' };
  return {
    kind: 'fail',
    message: `the VM powered off during ${state.phase}, before it was done (see the screenshot and the serial log)`,
  };
}
