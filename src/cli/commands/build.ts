// `winsmith build RECIPE.yaml --work DIR --repo R` and `winsmith build resume DIR --repo R`: a
// reference build on this machine (src/app/build.ts), its phases and steps shown on stderr as they
// go, then its record. Ctrl-C stops the VM; the build's folder is kept and the build resumes from
// its last finished phase.

import { startBuild, resumeBuild, type BuildEvents } from '../../app/build.ts';
import type { BuildRecord } from '../../build/build-record.ts';
import { AppError } from '../../core/errors.ts';
import type { CliCommand } from '../command.ts';
import { formatFields, formatTable } from '../format.ts';
import { createProgressBar } from '../progress-bar.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

function acceleratorOf(value: unknown): 'auto' | 'kvm' | 'tcg' {
  if (value === 'auto' || value === 'kvm' || value === 'tcg') return value;
  throw new AppError('USAGE', `--accel: expected auto, kvm or tcg, found '${String(value)}'`, {
    hint: 'auto uses KVM when a VM starts with it, TCG otherwise',
  });
}

function recordText(r: BuildRecord, work: string): string {
  return [
    formatFields([
      ['build', `${r.id}: ${r.state}`],
      ['folder', work],
      ['recipe', `${r.recipe.file} (${r.recipe.sha256.slice(0, 12)})`],
      [
        'source',
        r.source.kind === 'iso'
          ? `${r.source.path} (${r.source.sha256.slice(0, 12)})`
          : `${r.source.ref} ${r.source.digest}`,
      ],
      ['edition', `${r.edition.index} ${r.edition.editionId} build ${r.edition.build}`],
      ['accelerator', r.accelerator],
      ...(r.result === null
        ? []
        : ([
            ['stored', r.result.ref === null ? '-' : `${r.result.ref} ${r.result.digest ?? ''}`],
            ['disk', r.result.disk ?? '-'],
          ] as [string, string][])),
      ...(r.error === null ? [] : ([['error', r.error]] as [string, string][])),
    ]),
    formatTable(
      ['phase', 'state', 'boots', 'started', 'ended'],
      (['install', 'provision', 'generalize'] as const).map((p) => [
        p,
        r.phases[p].state,
        String(r.phases[p].boots),
        r.phases[p].startedAt ?? '-',
        r.phases[p].endedAt ?? '-',
      ]),
    ),
    r.steps.length === 0
      ? 'no provisioning step'
      : formatTable(
          ['step', 'kind', 'state', 'rounds', 'where'],
          r.steps.map((s) => [String(s.index + 1), s.kind, s.state, String(s.rounds), s.where]),
        ),
  ].join('\n\n');
}

/** Runs `fn` with events drawn on stderr and a signal that Ctrl-C (or SIGTERM) aborts. */
async function withBuildConsole<T>(fn: (events: BuildEvents, signal: AbortSignal) => Promise<T>): Promise<T> {
  const bar = createProgressBar(process.stderr);
  const line = (text: string): void => {
    bar.finish();
    process.stderr.write(`build: ${text}\n`);
  };
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    line(`${signal}: stopping the VM; the build's folder is kept, resume it with \`winsmith build resume\``);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await fn({ line, progress: bar.listener }, controller.signal);
  } catch (e) {
    if (controller.signal.aborted) {
      throw new AppError('INTERRUPTED', 'the build was stopped by a signal', {
        hint: 'its folder is kept: `winsmith build resume DIR` goes on from its last finished phase',
      });
    }
    throw e;
  } finally {
    bar.finish();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export const build: CliCommand = {
  path: ['build'],
  summary:
    'build a reference image in a VM from a recipe: install from the ISO, provision, Sysprep, capture, customize, store',
  define(command) {
    command
      .argument('<recipe>', 'the build recipe (YAML): source, vm, provision, generalize, customize, output')
      .requiredOption('--work <dir>', "the build's folder (new): its record, logs, answer media and disk")
      .option('--accel <auto|kvm|tcg>', 'KVM when a VM starts with it (auto), or force one', 'auto');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const accelerator = acceleratorOf(options.accel);
    const work = String(options.work);
    return withRepository(options, (session) =>
      withBuildConsole(async (events, signal) => {
        const record = await startBuild({
          recipe: String(args[0]),
          work,
          session,
          accelerator,
          events,
          signal,
        });
        return { data: record, text: recordText(record, work) };
      }),
    );
  },
};

export const buildResume: CliCommand = {
  path: ['build', 'resume'],
  summary: 'resume a failed or stopped build from its last finished phase',
  define(command) {
    command.argument('<dir>', "the build's folder");
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const work = String(args[0]);
    return withRepository(options, (session) =>
      withBuildConsole(async (events, signal) => {
        const record = await resumeBuild({ work, session, events, signal });
        return { data: record, text: recordText(record, work) };
      }),
    );
  },
};
