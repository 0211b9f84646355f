// The unattend step: a profile (src/formats/unattend/profile.ts) rendered to
// Windows\Panther\unattend.xml — where Windows looks for the answer file of an applied image
// (research/windows-formats.md §4.4) — merged over the image's own answer file when it has one,
// and over a host file the step names (`file:`). The result is linted: an error (a component in a
// pass Windows does not accept it in, a plain-text password) stops the run before any output.

import { readFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import {
  buildUnattend,
  lintUnattend,
  mergeUnattend,
  parseUnattend,
  PROFILE_KEYS,
  renderUnattend,
  type Unattend,
  type UnattendArch,
  type UnattendProfile,
} from '../../formats/unattend/index.ts';
import type { WimEdition } from '../wim-info.ts';
import type { ImageWork } from './image-work.ts';
import type { UnattendStep } from './recipe.ts';

export const PANTHER_UNATTEND = 'Windows\\Panther\\unattend.xml';

function lintOrThrow(text: string, what: string): void {
  const errors = lintUnattend(text).filter((f) => f.severity === 'error');
  const [first] = errors;
  if (first !== undefined) {
    throw new AppError(
      'FORMAT_INVALID',
      `${what}: line ${first.line}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
      {
        hint: 'check it with `winsmith unattend lint`',
      },
    );
  }
}

function parseChecked(bytes: Uint8Array | string, what: string): Unattend {
  lintOrThrow(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes), what);
  try {
    return parseUnattend(bytes);
  } catch (e) {
    if (e instanceof AppError)
      throw new AppError(e.code, `${what}: ${e.message}`, { hint: 'check the answer file', cause: e });
    throw e;
  }
}

export async function applyUnattend(work: ImageWork, step: UnattendStep, edition: WimEdition): Promise<void> {
  const { file, ...rest } = step.profile;
  const unknown = Object.keys(rest).filter((k) => !(PROFILE_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new AppError(
      'FORMAT_INVALID',
      `${step.where}: unknown unattend key '${unknown.join("', '")}' — expected one of file, ${PROFILE_KEYS.join(', ')}`,
      {
        hint: 'see docs/customize.md for the unattend keys',
      },
    );
  }
  const arch: UnattendArch = edition.arch ?? 'amd64';
  const profile = { arch, ...(rest as UnattendProfile) };
  const existing = await work.readImageFile(PANTHER_UNATTEND);
  let base = existing === undefined ? undefined : parseChecked(existing, `the image's ${PANTHER_UNATTEND}`);
  if (file !== undefined) {
    const user = parseChecked(await readFile(file), `${step.where}: ${file}`);
    base = base === undefined ? user : mergeUnattend(base, user);
  }
  let xml: string;
  try {
    xml = renderUnattend(buildUnattend(profile, base));
  } catch (e) {
    if (e instanceof AppError)
      throw new AppError(e.code, `${step.where}: ${e.message}`, {
        hint: e.hint ?? 'check the unattend step',
        cause: e,
      });
    throw e;
  }
  lintOrThrow(xml, `${step.where}: the rendered answer file`);
  await work.addBytes(xml, PANTHER_UNATTEND);
  work.record(
    existing === undefined ? 'add' : 'merge',
    '/Windows/Panther/unattend.xml',
    Object.keys(rest).join(', '),
  );
}
