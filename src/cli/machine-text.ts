// How the machine commands read a state and show a machine.

import { AppError } from '../core/errors.ts';
import type { Machine, MachineState, SecureBootState } from '../machines/machine-store.ts';
import type { MachineView } from '../app/session.ts';
import { formatFields } from './format.ts';

const STATES: readonly MachineState[] = ['pending', 'ready'];

export function machineState(text: string): MachineState {
  const state = STATES.find((s) => s === text);
  if (state === undefined) {
    throw new AppError('INVALID_ARGUMENT', `state ${JSON.stringify(text)} is not pending or ready`, {
      hint: 'give --state pending or --state ready',
    });
  }
  return state;
}

/** The last boot check-in recorded in the inventory, or null. */
export function checkInOf(m: Machine): { at: string; address: string | null } | null {
  const c = m.inventory['checkIn'];
  if (typeof c !== 'object' || c === null) return null;
  const { at, address } = c as Record<string, unknown>;
  if (typeof at !== 'string') return null;
  return { at, address: typeof address === 'string' ? address : null };
}

/** Secure Boot as last reported: `on`/`off` (with who told and when, `long`), `-` when never told. */
export function secureBootText(state: SecureBootState | null, long = false): string {
  if (state === null) return '-';
  const on = state.on ? 'on' : 'off';
  return long
    ? `${on} (reported by ${state.source === 'agent' ? 'the deploy agent' : 'GRUB'} at ${state.at})`
    : on;
}

/** One machine, field by field. */
export function machineText(m: MachineView): string {
  const checkIn = checkInOf(m);
  return formatFields([
    ['id', m.id],
    ['name', m.name ?? '-'],
    ['state', m.state],
    ['mac', m.mac ?? '-'],
    ['uuid', m.smbiosUuid ?? '-'],
    ['serial', m.serial ?? '-'],
    ['machine', [m.manufacturer, m.product].filter((x) => x !== null).join(' ') || '-'],
    ['firmware', [m.platform, m.arch].filter((x) => x !== null).join('/') || '-'],
    ['secure boot', secureBootText(m.secureBoot, true)],
    ['labels', m.labels.length === 0 ? '-' : m.labels.join(', ')],
    ['first seen', m.firstSeen],
    ['last seen', m.lastSeen],
    [
      'check-in',
      checkIn === null ? '-' : `${checkIn.at}${checkIn.address === null ? '' : ` from ${checkIn.address}`}`,
    ],
    ['deployment', m.deployment === null ? '-' : `${m.deployment.id} (${m.deployment.state})`],
  ]);
}
