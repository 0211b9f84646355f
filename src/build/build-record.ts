// A build's record (build.json in its work folder): enough to follow it while it runs, to resume
// it, and to rebuild it — the recipe's text and digest, the ISO's SHA-256 or the source image's
// digest, the edition, the winsmith version, the QEMU command line, each phase and each
// provisioning step with its times, result and output digest. Written whole each time (a
// temporary file renamed over the old one). It holds no secret: the report token is kept as its
// SHA-256 only.

import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { Accelerator } from './build-vm.ts';
import type { BuildPhase, ProvisionStep } from './build-recipe.ts';
import type { BuildReport } from './build-report.ts';
import type { ChosenEdition } from './edition.ts';

export const BUILD_RECORD_FILE = 'build.json';

export type BuildState = 'running' | 'failed' | 'done';
export type StepState = 'pending' | 'running' | 'done' | 'failed';

export interface StepRecord {
  readonly index: number;
  readonly kind: ProvisionStep['kind'];
  readonly where: string;
  state: StepState;
  startedAt: string | null;
  endedAt: string | null;
  /** Windows Update rounds that installed updates (each followed by a restart). */
  rounds: number;
  outputSha256: string | null;
  /** The output's end, as the script sent it. */
  output: string | null;
}

export interface BuildRecord {
  readonly format: 1;
  readonly id: string;
  readonly createdAt: string;
  readonly winsmithVersion: string;
  readonly recipe: { readonly file: string; readonly sha256: string; readonly text: string };
  readonly source:
    | { readonly kind: 'iso'; readonly path: string; readonly sha256: string }
    | { readonly kind: 'image'; readonly ref: string; readonly digest: string };
  readonly edition: ChosenEdition;
  readonly accelerator: Accelerator;
  readonly tokenSha256: string;
  /** The loopback port the VM reports to (its answer media names it). */
  reportPort: number;
  qemuArgs: readonly string[];
  state: BuildState;
  phases: Record<
    BuildPhase,
    {
      state: 'pending' | 'running' | 'done' | 'failed';
      startedAt: string | null;
      endedAt: string | null;
      boots: number;
    }
  >;
  steps: StepRecord[];
  error: string | null;
  result: {
    readonly ref: string | null;
    readonly digest: string | null;
    readonly disk: string | null;
  } | null;
}

export async function writeBuildRecord(dir: string, record: BuildRecord): Promise<void> {
  const path = join(dir, BUILD_RECORD_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

export async function readBuildRecord(dir: string): Promise<BuildRecord> {
  let text: string;
  try {
    text = await readFile(join(dir, BUILD_RECORD_FILE), 'utf8');
  } catch (cause) {
    throw new AppError('NOT_FOUND', `${dir} is not a build's folder (it has no ${BUILD_RECORD_FILE})`, {
      hint: 'name the folder a build was started in (winsmith build --work DIR)',
      cause,
    });
  }
  const parsed = JSON.parse(text) as { format?: unknown };
  if (parsed.format !== 1) {
    throw new AppError(
      'FORMAT_UNSUPPORTED',
      `${dir}/${BUILD_RECORD_FILE} is of format ${String(parsed.format)}`,
      {
        hint: 'resume it with the winsmith version that started it',
      },
    );
  }
  return parsed as BuildRecord;
}

/** A step's record after a report about it. */
export function recordReport(record: BuildRecord, report: BuildReport, at: string): void {
  if (!('step' in report)) return;
  const step = record.steps[report.step];
  if (step === undefined) return;
  switch (report.event) {
    case 'start':
      step.state = 'running';
      step.startedAt ??= at;
      break;
    case 'round':
      step.rounds += 1;
      break;
    case 'end':
      step.state = report.ok ? 'done' : 'failed';
      step.endedAt = at;
      step.output = report.output;
      step.outputSha256 = createHash('sha256').update(report.output).digest('hex');
      break;
  }
}
