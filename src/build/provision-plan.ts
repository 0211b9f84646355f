// What the provisioning script inside the build VM does, written once as data: the build's
// identity, where to report, and the recipe's provision steps with every host file given its place
// on the answer media. answerMediaFiles lists the media's files (host files grafted under
// winsmith/, the generated ones with their text); the script (provision-script.ts) reads
// winsmith/plan.json and never sees a host path.

import { basename } from 'node:path';
import { renderAutounattend, type AnswerSettings } from './autounattend.ts';
import type { BuildRecipe, ProvisionStep } from './build-recipe.ts';
import { PROVISION_SCRIPT } from './provision-script.ts';

/**
 * A step as the script runs it: media paths are relative to the media's winsmith folder. Steps are
 * known by their index in the plan (the recipe's order); nothing of the host is in them.
 */
export type PlannedStep =
  | { readonly kind: 'powershell'; readonly script: string }
  | { readonly kind: 'files'; readonly copies: readonly { readonly file: string; readonly dest: string }[] }
  | { readonly kind: 'features'; readonly names: readonly string[] }
  | { readonly kind: 'packages'; readonly files: readonly string[] }
  | { readonly kind: 'windowsUpdate'; readonly maxRounds: number }
  | { readonly kind: 'restart' };

export interface ProvisionPlan {
  readonly format: 1;
  readonly build: string;
  /** Where the script reports, as the VM reaches the host (QEMU user networking: 10.0.2.2). */
  readonly reportUrl: string;
  /** The build's report token: it opens this build's reports and nothing else. */
  readonly token: string;
  readonly steps: readonly PlannedStep[];
  readonly generalize: {
    readonly vmMode: boolean;
    /** The answer file the deployed machines' first boot reads, on the media; null for none. */
    readonly unattend: string | null;
  };
}

/** One file of the answer media: a host file grafted in, or generated text. */
export type MediaFile =
  { readonly path: string; readonly host: string } | { readonly path: string; readonly text: string };

export interface BuildIdentity {
  readonly build: string;
  readonly reportUrl: string;
  readonly token: string;
}

/** A host file's place on the media: winsmith/files/<step>/<name>, one folder per step. */
function mediaPath(step: number, host: string): string {
  return `files/${step}/${basename(host)}`;
}

function planStep(step: ProvisionStep, n: number, files: MediaFile[]): PlannedStep {
  const graft = (host: string): string => {
    const path = mediaPath(n, host);
    if (!files.some((f) => f.path === `winsmith/${path}`)) files.push({ path: `winsmith/${path}`, host });
    return path;
  };
  switch (step.kind) {
    case 'powershell': {
      const script = `steps/${n}.ps1`;
      files.push({ path: `winsmith/${script}`, text: step.text });
      return { kind: 'powershell', script };
    }
    case 'files':
      return { kind: 'files', copies: step.copies.map((c) => ({ file: graft(c.src), dest: c.dest })) };
    case 'packages':
      return { kind: 'packages', files: step.files.map(graft) };
    case 'features':
      return { kind: 'features', names: step.names };
    case 'windowsUpdate':
      return { kind: 'windowsUpdate', maxRounds: step.maxRounds };
    case 'restart':
      return { kind: 'restart' };
  }
}

/** The plan of a build and every file of its answer media. */
export function answerMediaFiles(
  recipe: BuildRecipe,
  answer: AnswerSettings,
  identity: BuildIdentity,
  deployUnattend: string | null,
): { plan: ProvisionPlan; files: MediaFile[] } {
  const files: MediaFile[] = [];
  const steps = recipe.provision.map((s, n) => planStep(s, n + 1, files));
  if (deployUnattend !== null) files.push({ path: 'winsmith/deploy-unattend.xml', text: deployUnattend });
  const plan: ProvisionPlan = {
    format: 1,
    ...identity,
    steps,
    generalize: {
      vmMode: recipe.generalize.vmMode,
      unattend: deployUnattend === null ? null : 'deploy-unattend.xml',
    },
  };
  files.push(
    { path: 'autounattend.xml', text: renderAutounattend(answer) },
    { path: 'winsmith/provision.ps1', text: PROVISION_SCRIPT },
    { path: 'winsmith/plan.json', text: `${JSON.stringify(plan, null, 2)}\n` },
  );
  return { plan, files };
}
