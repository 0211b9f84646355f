// Registry paths as recipes and .reg files write them (HKLM\SYSTEM\…, HKEY_USERS\.DEFAULT\…,
// HKCU\…) mapped to the offline hive files of an image and the key path inside each.

import { AppError } from '../../core/errors.ts';

export type ImageHiveName = 'SYSTEM' | 'SOFTWARE' | 'DEFAULT' | 'SAM' | 'SECURITY' | 'NTUSER.DAT';

/** Where each hive lives in an image ('/'-separated, from the image root). */
export const IMAGE_HIVE_PATHS: Readonly<Record<ImageHiveName, string>> = {
  SYSTEM: '/Windows/System32/config/SYSTEM',
  SOFTWARE: '/Windows/System32/config/SOFTWARE',
  DEFAULT: '/Windows/System32/config/DEFAULT',
  SAM: '/Windows/System32/config/SAM',
  SECURITY: '/Windows/System32/config/SECURITY',
  'NTUSER.DAT': '/Users/Default/NTUSER.DAT',
};

export const IMAGE_HIVES = Object.keys(IMAGE_HIVE_PATHS) as ImageHiveName[];

export interface HivePath {
  readonly hive: ImageHiveName;
  /** Inside the hive, '\\'-separated from its root, '' for the root itself. */
  readonly key: string;
}

const HKLM = ['HKLM', 'HKEY_LOCAL_MACHINE'];
const HKU = ['HKU', 'HKEY_USERS'];
const HKCU = ['HKCU', 'HKEY_CURRENT_USER'];
const HKLM_HIVES: readonly ImageHiveName[] = ['SYSTEM', 'SOFTWARE', 'SAM', 'SECURITY'];

export const ACCEPTED_ROOTS =
  'HKLM\\SYSTEM, HKLM\\SOFTWARE, HKLM\\SAM, HKLM\\SECURITY, HKU\\.DEFAULT, HKU\\Default or HKCU (the Default user)';

/** The hive and key `path` names; an error says which roots exist offline. */
export function mapRegistryPath(path: string): HivePath {
  const parts = path.split('\\').filter((p) => p !== '');
  const root = (parts[0] ?? '').toUpperCase();
  const second = (parts[1] ?? '').toUpperCase();
  const tail = parts.slice(2).join('\\');
  if (HKLM.includes(root)) {
    const hive = HKLM_HIVES.find((h) => h === second);
    if (hive !== undefined) return { hive, key: tail };
  } else if (HKU.includes(root)) {
    if (second === '.DEFAULT') return { hive: 'DEFAULT', key: tail };
    if (second === 'DEFAULT') return { hive: 'NTUSER.DAT', key: tail };
  } else if (HKCU.includes(root)) {
    return { hive: 'NTUSER.DAT', key: parts.slice(1).join('\\') };
  }
  throw new AppError(
    'INVALID_ARGUMENT',
    `registry path '${path}' is not in a hive an offline image has — expected a path under ${ACCEPTED_ROOTS}`,
    { hint: 'HKLM\\HARDWARE and other keys Windows makes at boot do not exist offline' },
  );
}
