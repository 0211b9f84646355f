// A profile made into one machine's answer-file settings: its computer name from the pattern
// (`WEB-{serial}`), its administrator password (given, or generated for it), the product key (the
// edition's public KMS client key when the profile says `kms`), and its static addresses when the
// profile's table names it (by name or MAC), DHCP otherwise. Pure but for the password's random
// bytes; the result is rendered by the unattend code (src/image/unattend.ts).

import { randomInt } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import type { UnattendProfile } from '../formats/unattend/profile.ts';
import { kmsClientKey } from '../formats/unattend/kms.ts';
import type { DeploymentProfile, PatternToken, StaticAddresses } from './profile.ts';

export interface MachineFacts {
  readonly name: string | null;
  readonly mac: string | null;
  readonly serial: string | null;
  readonly smbiosUuid: string | null;
}

/** What the image says of the edition deployed (image info's fields), for the product key. */
export interface EditionFacts {
  readonly editionId: string | null;
  /** The build number (20348), from MAJOR.MINOR.BUILD.SPBUILD. */
  readonly build: number | null;
  readonly arch: 'amd64' | 'x86' | 'arm64' | null;
}

/** Windows computer names: 1 to 15 letters, digits and hyphens, not only digits (NetBIOS). */
const COMPUTER_NAME = /^[A-Za-z0-9-]{1,15}$/;

function tokenValue(token: PatternToken, machine: MachineFacts): string | null {
  const hex = machine.mac?.replaceAll(':', '').toUpperCase() ?? null;
  switch (token) {
    case 'name':
      return machine.name;
    case 'serial':
      return machine.serial === null ? null : machine.serial.replace(/[^A-Za-z0-9-]/g, '');
    case 'mac':
      return hex;
    case 'mac6':
      return hex?.slice(6) ?? null;
    case 'uuid8':
      return machine.smbiosUuid?.replaceAll('-', '').slice(0, 8).toUpperCase() ?? null;
  }
}

/** The computer name `pattern` gives `machine`; INVALID_ARGUMENT saying why when it cannot. */
export function expandComputerName(pattern: string, machine: MachineFacts): string {
  const name = pattern.replace(/\{([a-z0-9]+)\}/g, (_match, token: string) => {
    const value = tokenValue(token as PatternToken, machine);
    if (value === null || value === '') {
      throw new AppError(
        'INVALID_ARGUMENT',
        `the computer name ${pattern} needs {${token}}, which this machine has not`,
        {
          hint:
            token === 'name'
              ? "name the machine first: 'winsmith machine set ID --name NAME'"
              : 'use another pattern in the profile',
        },
      );
    }
    return value;
  });
  if (!COMPUTER_NAME.test(name) || /^\d+$/.test(name)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `the computer name ${pattern} gives '${name}' for this machine: expected 1 to 15 letters, digits or hyphens, not only digits`,
      { hint: 'shorten the pattern (a serial number can be long: {mac6} is always 6 characters)' },
    );
  }
  return name;
}

/** 20 characters with upper and lower case letters, digits and symbols: Windows' complexity rule met. */
export function generateAdminPassword(): string {
  const classes = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!#%+-=?@'];
  const all = classes.join('');
  const chars = classes.map((c) => c[randomInt(c.length)] ?? '');
  while (chars.length < 20) chars.push(all[randomInt(all.length)] ?? '');
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] ?? '', chars[i] ?? ''];
  }
  return chars.join('');
}

function staticFor(profile: DeploymentProfile, machine: MachineFacts): StaticAddresses | undefined {
  // The table's own entries only: a machine named `constructor` or `toString` is in no table.
  const entry = (key: string | null) =>
    key !== null && Object.hasOwn(profile.staticAddresses, key) ? profile.staticAddresses[key] : undefined;
  return entry(machine.name) ?? entry(machine.mac);
}

function productKey(profile: DeploymentProfile, edition: EditionFacts): string | undefined {
  if (profile.productKey !== 'kms') return profile.productKey ?? undefined;
  const key =
    edition.editionId === null || edition.build === null
      ? undefined
      : kmsClientKey(edition.editionId, edition.build);
  if (key === undefined) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `productKey: kms, but Microsoft publishes no KMS client key for edition ${edition.editionId ?? '(unknown)'} build ${String(edition.build ?? '(unknown)')}`,
      { hint: 'give the product key itself in the profile' },
    );
  }
  return key;
}

/** The answer-file settings of `profile` for `machine`, with the password it gets (or none). */
export function machineUnattendProfile(
  profile: DeploymentProfile,
  machine: MachineFacts,
  edition: EditionFacts,
  adminPassword: string | null,
): UnattendProfile {
  const addresses = staticFor(profile, machine);
  const key = productKey(profile, edition);
  const interfaces =
    addresses === undefined || machine.mac === null
      ? undefined
      : [
          {
            identifier: machine.mac.replaceAll(':', '-').toUpperCase(),
            addresses: addresses.addresses,
            ...(addresses.gateway === undefined ? {} : { gateway: addresses.gateway }),
            ...(addresses.dns === undefined ? {} : { dns: addresses.dns }),
          },
        ];
  return {
    ...profile.unattend,
    ...(edition.arch === null ? {} : { arch: edition.arch }),
    ...(profile.computerName === null
      ? {}
      : { computerName: expandComputerName(profile.computerName, machine) }),
    ...(adminPassword === null ? {} : { adminPassword }),
    ...(key === undefined ? {} : { productKey: key }),
    ...(interfaces === undefined && profile.dnsDomain === null
      ? {}
      : {
          network: {
            ...(profile.dnsDomain === null ? {} : { dnsDomain: profile.dnsDomain }),
            ...(interfaces === undefined ? {} : { interfaces }),
          },
        }),
  };
}
