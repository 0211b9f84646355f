// A profile's steps as the agent gets them — the task's steps text, read with the profile's step
// readers — and the files of the deployment share they use, fetched into the agent's scratch folder
// at their share paths before anything is written to the disk: a missing or unreadable file fails
// the deployment while the machine's disk is still as it was. Each file is fetched whole, or resumed
// with a Range after a cut; what the server lists is checked before it is trusted.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { AgentTask } from '../deploy/agent-protocol.ts';
import { isSharePath, MAX_SHARE_BYTES, MAX_SHARE_FILES } from '../deploy/deployment-share.ts';
import { parseProfileSteps } from '../deploy/profile-steps.ts';
import { hostPathCheck, loadStepFiles, stepPaths, type RecipeStep } from '../image/recipe/recipe.ts';
import type { AgentClient } from './agent-client.ts';

/** Tries a call again while that may help (the agent's retry policy). */
type Fetch = <T>(what: string, call: () => Promise<T>) => Promise<T>;

export interface ProfileSteps {
  readonly steps: readonly RecipeStep[];
  /** Names the steps' first-boot scripts folder: the SHA-256 of their text, 12 hex digits. */
  readonly id: string;
  readonly files: number;
  readonly bytes: number;
}

/** A path of the server's list, checked to be a plain relative path ('/'-separated, no '..'). */
function checkedPath(path: string): string {
  if (!isSharePath(path)) {
    throw new AppError('FORMAT_INVALID', `the server lists the share file ${JSON.stringify(path)}`, {
      hint: 'a share path is relative to the share, without . or ..: the server is not a winsmith server of this version',
    });
  }
  return path;
}

/**
 * Fetches the share files the server lists for this deployment into `dir` (each through `fetch`,
 * which tries a call again while it may help); returns how many files and bytes.
 */
async function fetchShareFiles(
  client: AgentClient,
  dir: string,
  fetch: Fetch,
): Promise<{ files: number; bytes: number }> {
  const files = await fetch('listing the share files', () => client.shareFiles());
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  if (files.length > MAX_SHARE_FILES || bytes > MAX_SHARE_BYTES) {
    throw new AppError(
      'LIMIT_EXCEEDED',
      `the share files are ${files.length} files of ${bytes} bytes, more than ${MAX_SHARE_FILES} or ${MAX_SHARE_BYTES}`,
      { hint: "name smaller folders in the profile's steps" },
    );
  }
  for (const file of files) {
    const dest = join(dir, ...checkedPath(file.path).split('/'));
    await mkdir(dirname(dest), { recursive: true });
    await fetch(`share file ${file.path}`, () => client.shareFile(file, dest));
  }
  return { files: files.length, bytes };
}

/**
 * The task's steps (none when it has none), their share paths in `dir`, the share files fetched
 * there and the first-boot scripts given as files read.
 */
export async function prepareProfileSteps(
  customize: AgentTask['customize'],
  client: AgentClient,
  dir: string,
  fetch: Fetch,
): Promise<ProfileSteps> {
  if (customize === null) return { steps: [], id: '', files: 0, bytes: 0 };
  const steps = parseProfileSteps(customize.yaml, customize.source, (p) => join(dir, ...p.split('/')));
  const paths = stepPaths(steps);
  const fetched = paths.length === 0 ? { files: 0, bytes: 0 } : await fetchShareFiles(client, dir, fetch);
  // A named folder the server listed no file in is there, empty: the drivers step says so.
  for (const p of paths) if (p.kind === 'directory') await mkdir(p.path, { recursive: true });
  const loaded = await loadStepFiles(
    steps,
    hostPathCheck('the server did not give it: was the deployment share changed during the deployment?'),
  );
  return {
    steps: loaded,
    id: createHash('sha256').update(customize.yaml).digest('hex').slice(0, 12),
    ...fetched,
  };
}
