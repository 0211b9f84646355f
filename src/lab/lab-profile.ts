// The deployment profile a lab applies (docs/deploy.md, Profiles): the image given, the firmware of
// the lab's VM (so the disk gets that firmware's standard layout), a computer name from the MAC, a
// generated administrator password, and a power-off at the end, which ends the VM.

import type { VmFirmware } from '../engines/qemu-system.ts';

export const LAB_PROFILE_NAME = 'lab';

/** The computer name pattern: LAB- and the last 6 hex digits of the MAC, upper case. */
export const LAB_COMPUTER_NAME = 'LAB-{mac6}';

export function labProfileYaml(image: string, firmware: VmFirmware): string {
  return [
    `name: ${LAB_PROFILE_NAME}`,
    `image: '${image}'`,
    `firmware: ${firmware}`,
    `computerName: '${LAB_COMPUTER_NAME}'`,
    'adminPassword: generate',
    'productKey: kms',
    'unattend: { timeZone: UTC, locale: en-US }',
    'finish: poweroff',
    '',
  ].join('\n');
}
