// A deployment profile's `customize:` steps: the steps of a recipe (src/image/recipe/recipe.ts, read
// by its readers), applied by the deploy agent to the machine's Windows volume after the image.
// Their files come from the server's deployment share (MDT's model): every path a step names is
// relative to the share, with `/` or `\`, without `..` — checked here when the profile is read, and
// against the share itself when it is applied (src/deploy/deployment-share.ts). The agent reads the
// same steps from the profile's text with the other keys blanked out (`profileStepsText`), so that
// it is given nothing of the profile but its steps, at the same lines and columns.

import { isMap, type Node } from 'yaml';
import { YamlInput } from '../config/yaml-input.ts';
import { readSteps, type HostPathReader, type RecipeStep, type StepReading } from '../image/recipe/recipe.ts';

export const PROFILE_STEP_KINDS = ['files', 'registry', 'drivers', 'firstboot', 'features'] as const;
export type ProfileStepKind = (typeof PROFILE_STEP_KINDS)[number];
export type ProfileStep = Extract<RecipeStep, { kind: ProfileStepKind }>;

/** The key of a profile that holds its steps. */
export const CUSTOMIZE_KEY = 'customize';

const REFUSED: StepReading<ProfileStepKind>['refused'] = {
  unattend: {
    why: "unattend is not a step of a profile's customize: the profile's unattend: key and its computerName, adminPassword, productKey and network make the machine's answer file",
    hint: 'move these settings to the unattend: key at the top of the profile',
  },
  metadata: {
    why: "metadata is not a step of a profile's customize: it sets a WIM image's properties, which a deployed disk does not have",
    hint: "set them on the image with 'winsmith image customize' (docs/customize.md)",
  },
};

/**
 * A path in the deployment share as a step names it, made '/'-separated without '.' or empty
 * parts; an absolute path, a drive, '..' or the share's root itself is refused.
 */
function readSharePath(y: YamlInput, node: Node | null, what: string): string {
  const text = y.string(node, what);
  const hint = "write it from the share's root, e.g. drivers/viostor or scripts/setup.ps1";
  if (/^[\\/]|^[A-Za-z]:/.test(text))
    throw y.error(
      node,
      `${what} '${text}' must be relative to the deployment share, found an absolute path`,
      hint,
    );
  const parts = text.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw y.error(node, `${what} '${text}' must stay inside the deployment share, found '..'`, hint);
  if (parts.length === 0 || text.includes('\0'))
    throw y.error(node, `${what} '${text}' names no file or folder of the deployment share`, hint);
  return parts.join('/');
}

/** The steps under `node`; each share path is given to `local`, which says where it is on this host. */
export function readProfileSteps(
  y: YamlInput,
  node: Node | null,
  local: (sharePath: string) => string,
): ProfileStep[] {
  const hostPath: HostPathReader = (input, n, what) => local(readSharePath(input, n, what));
  return readSteps(y, node, { hostPath, kinds: PROFILE_STEP_KINDS, refused: REFUSED });
}

/**
 * The profile text with everything but its `customize:` entry blanked out (each character a space,
 * line ends kept), so that the steps read from it have the places they have in the whole profile;
 * '' when the profile has no steps.
 */
export function profileStepsText(text: string): string {
  const y = YamlInput.parse(text, 'the profile');
  if (!isMap(y.root)) return '';
  const pair = y.root.items.find((p) => (p.key as Node | null)?.toJSON() === CUSTOMIZE_KEY);
  const start = (pair?.key as Node | undefined)?.range?.[0];
  const end = (pair?.value as Node | null | undefined)?.range?.[1];
  if (start === undefined || end === undefined) return '';
  const blank = (part: string): string => part.replace(/[^\r\n]/g, ' ');
  return blank(text.slice(0, start)) + text.slice(start, end) + blank(text.slice(end));
}

/** The steps of a profile text made by `profileStepsText` (named `file` in messages). */
export function parseProfileSteps(
  text: string,
  file: string,
  local: (sharePath: string) => string,
): ProfileStep[] {
  const y = YamlInput.parse(text, file);
  const entry = y.mapOf(y.root, 'the profile steps', [CUSTOMIZE_KEY])[0];
  return entry === undefined ? [] : readProfileSteps(y, entry.value, local);
}
