// The unattend step: a profile (src/image/unattend.ts, src/formats/unattend) rendered to
// Windows\Panther\unattend.xml — where Windows looks for the answer file of an applied image
// (research/windows-formats.md §4.4) — over the image's own answer file when it has one, and over
// a host file the step names (`file:`). Every answer file read is linted first and the result
// after: an error (a component in a pass Windows does not accept it in, a plain-text password)
// stops the run before any output is written.

import { readFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { lintUnattend, mergeUnattend, parseUnattend, type Unattend } from '../../formats/unattend/index.ts';
import { renderProfile } from '../unattend.ts';
import type { WimEdition } from '../wim-info.ts';
import type { ImageWork } from './image-work.ts';
import type { UnattendStep } from './recipe.ts';

export const PANTHER_UNATTEND = 'Windows\\Panther\\unattend.xml';

/** An answer file parsed once lint finds no error in it; errors name `what` and the line. */
function parseChecked(bytes: Uint8Array, what: string): Unattend {
  const errors = lintUnattend(bytes).filter((f) => f.severity === 'error');
  const [first] = errors;
  if (first !== undefined) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new AppError('FORMAT_INVALID', `${what}: line ${first.line}: ${first.message}${more}`, {
      hint: 'check it with `winsmith unattend lint`',
    });
  }
  try {
    return parseUnattend(bytes);
  } catch (e) {
    if (e instanceof AppError) {
      throw new AppError(e.code, `${what}: ${e.message}`, { hint: 'check the answer file', cause: e });
    }
    throw e;
  }
}

export async function applyUnattend(work: ImageWork, step: UnattendStep, edition: WimEdition): Promise<void> {
  const profile = { arch: edition.arch ?? 'amd64', ...step.profile };
  const existing = await work.readImageFile(PANTHER_UNATTEND);
  let base = existing === undefined ? undefined : parseChecked(existing, `the image's ${PANTHER_UNATTEND}`);
  if (step.file !== undefined) {
    const user = parseChecked(new Uint8Array(await readFile(step.file)), `${step.where}: ${step.file}`);
    base = base === undefined ? user : mergeUnattend(base, user);
  }
  const { xml, warnings } = renderProfile(profile, base, `${step.where}: the answer file`);
  for (const w of warnings) work.warnings.push(`${step.where}: unattend.xml line ${w.line}: ${w.message}`);
  await work.addBytes(xml, PANTHER_UNATTEND);
  work.record(
    existing === undefined ? 'add' : 'merge',
    '/Windows/Panther/unattend.xml',
    Object.keys(step.profile).join(', '),
  );
}
