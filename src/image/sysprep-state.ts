// Whether a Windows installation was generalized by Sysprep, read from its SYSTEM hive. Sysprep
// /generalize leaves the next boot to run Windows Setup's specialize pass: `Setup` then has
// SystemSetupInProgress = 1 and CmdLine `oobe\windeploy.exe` (SetupType 2), and
// `Setup\Status\SysprepStatus` has GeneralizationState = 7 (generalize done). A Windows in use
// has SystemSetupInProgress = 0 and an empty CmdLine; GeneralizationState alone does not tell,
// since an installed Windows keeps the 7 its installation media had.

import { decodeRegData, type Hive, type HiveKey } from '../formats/regf/index.ts';

/** The GeneralizationState Sysprep writes once /generalize has completed. */
export const GENERALIZED_STATE = 7;

export interface SysprepState {
  readonly generalized: boolean;
  /** The values it was decided on, as `name=value`, for the log. */
  readonly evidence: string;
}

function valueOf(key: HiveKey | undefined, name: string): string | number | null {
  const value = key?.value(name);
  if (value === undefined) return null;
  const data = decodeRegData(value);
  return typeof data === 'string' || typeof data === 'number' ? data : null;
}

/** The Sysprep state of the installation whose SYSTEM hive is `system`. */
export function readSysprepState(system: Hive): SysprepState {
  const setup = system.getKey('Setup');
  const inProgress = valueOf(setup, 'SystemSetupInProgress');
  const cmdLine = valueOf(setup, 'CmdLine');
  const state = valueOf(system.getKey('Setup\\Status\\SysprepStatus'), 'GeneralizationState');
  const evidence = [
    `SystemSetupInProgress=${inProgress ?? 'absent'}`,
    `CmdLine=${cmdLine === null ? 'absent' : JSON.stringify(cmdLine)}`,
    `GeneralizationState=${state ?? 'absent'}`,
  ].join(', ');
  const generalized =
    inProgress === 1 &&
    typeof cmdLine === 'string' &&
    /windeploy/i.test(cmdLine) &&
    (state === null || state === GENERALIZED_STATE);
  return { generalized, evidence };
}
