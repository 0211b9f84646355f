// `winsmith build RECIPE.yaml --repo R`: a reference build. With a data directory (and --work DIR)
// it runs on this machine (src/app/build.ts); with a server URL the server runs it as a job (the
// recipe's host paths are then in its deployment share) and the command follows it. Either way its
// phases and steps are shown on stderr as they go, then its record. `winsmith build resume DIR|ID`
// goes on from the last finished phase. Ctrl-C stops a build run here (its folder is kept), and
// only stops following one the server runs.

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBuild, resumeBuild, type BuildEvents } from '../../app/build.ts';
import type { BuildView } from '../../app/builds.ts';
import { isRemoteSpec, repositorySpec } from '../../app/open-session.ts';
import type { Session } from '../../app/session.ts';
import { ERROR_CODES, type ErrorCode } from '../../core/error-codes.ts';
import { AppError } from '../../core/errors.ts';
import { buildText, hasBuildEnded, recordText } from '../build-text.ts';
import type { CliCommand, CliResult } from '../command.ts';
import { createProgressBar } from '../progress-bar.ts';
import { addForceOption, forceGiven } from '../force-option.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

function acceleratorOf(value: unknown): 'auto' | 'kvm' | 'tcg' {
  if (value === 'auto' || value === 'kvm' || value === 'tcg') return value;
  throw new AppError('USAGE', `--accel: expected auto, kvm or tcg, found '${String(value)}'`, {
    hint: 'auto uses KVM when a VM starts with it, TCG otherwise',
  });
}

/** Whether --repo (or WINSMITH_REPO) names a server. */
function onServer(options: Readonly<Record<string, unknown>>): boolean {
  const spec = repositorySpec(typeof options.repo === 'string' ? options.repo : undefined);
  return spec !== undefined && isRemoteSpec(spec);
}

/** A build the server queued: shown at once with --detach, else followed to its end. */
function queuedOn(
  session: Session,
  queued: BuildView,
  options: Readonly<Record<string, unknown>>,
  what: string,
): Promise<CliResult> | CliResult {
  if (options.detach === true) return { data: queued, text: buildText(queued) };
  return followed(session, queued.id, `build ${queued.id} ${what} on ${session.location}`);
}

/** Runs `fn` with events drawn on stderr and a signal that Ctrl-C (or SIGTERM) aborts. */
async function withBuildConsole<T>(
  onStop: string,
  fn: (events: BuildEvents, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const bar = createProgressBar(process.stderr);
  const line = (text: string): void => {
    bar.finish();
    process.stderr.write(`build: ${text}\n`);
  };
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    line(`${signal}: ${onStop}`);
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

const LOCAL_STOP = "stopping the VM; the build's folder is kept, resume it with `winsmith build resume`";

/** Prints a server's build's log lines and progress until it ends (or `signal` aborts). */
async function followBuild(
  session: Session,
  id: string,
  events: BuildEvents,
  signal: AbortSignal,
): Promise<BuildView> {
  const watching = new AbortController();
  const watched = session.builds
    .watch(
      () => undefined,
      watching.signal,
      (job, progress) => {
        if (job === id) events.progress(progress);
      },
    )
    .catch(() => undefined);
  let after = 0;
  try {
    for (;;) {
      const build = await session.builds.show(id);
      const lines = await session.builds.logs(id, after);
      for (const l of lines) events.line(l.line);
      after = lines.at(-1)?.id ?? after;
      if (hasBuildEnded(build) || signal.aborted) return build;
      await sleep(1000, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    watching.abort();
    await watched;
  }
}

/** A server's build followed to its end: its view, and the exit status of how it ended. */
async function followed(session: Session, id: string, started: string): Promise<CliResult> {
  return withBuildConsole(
    `stopped following; build ${id} goes on on the server (\`winsmith build cancel ${id}\` stops it)`,
    async (events, signal) => {
      events.line(started);
      const build = await followBuild(session, id, events, signal);
      const code = build.error?.code;
      const exitCode =
        build.state === 'done'
          ? 0
          : !hasBuildEnded(build)
            ? 0
            : code !== undefined && code in ERROR_CODES
              ? ERROR_CODES[code as ErrorCode].exit
              : ERROR_CODES.BUILD_FAILED.exit;
      return { data: build, text: buildText(build), exitCode };
    },
  );
}

export const build: CliCommand = {
  path: ['build'],
  summary:
    'build a reference image in a VM from a recipe: install from the ISO, provision, Sysprep, capture, customize, store',
  define(command) {
    command
      .argument('<recipe>', 'the build recipe (YAML): source, vm, provision, generalize, customize, output')
      .option(
        '--work <dir>',
        "with a data directory: the build's folder (new), for its record, logs and disk",
      )
      .option(
        '--accel <auto|kvm|tcg>',
        'with a data directory: KVM when a VM starts with it (auto), or force one',
      )
      .option('--detach', 'with a server: queue the build and return, without following it');
    addForceOption(command, "(with a data directory) the recipe's output.disk");
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const file = String(args[0]);
    if (onServer(options)) {
      if (options.work !== undefined || options.accel !== undefined || forceGiven(options)) {
        throw new AppError('USAGE', '--work, --accel and --force are for a build run here, not on a server', {
          hint: 'the server keeps its builds in its builds folder, on its own accelerator (builds: in its config)',
        });
      }
      const text = await readFile(file, 'utf8').catch((cause: unknown) => {
        throw new AppError('FILE_NOT_FOUND', `the build recipe ${file} cannot be read`, { cause });
      });
      return withRepository(options, async (session) => {
        const queued = await session.builds.start({ recipe: text, file: basename(file) });
        return queuedOn(session, queued, options, 'queued');
      });
    }
    if (typeof options.work !== 'string') {
      throw new AppError('USAGE', 'a build run here needs --work DIR, its folder', {
        hint: 'give a new folder with --work, or give --repo a server URL for the server to run it',
      });
    }
    const accelerator = acceleratorOf(options.accel ?? 'auto');
    const work = options.work;
    return withRepository(options, (session) =>
      withBuildConsole(LOCAL_STOP, async (events, signal) => {
        const record = await startBuild({
          recipe: file,
          work,
          repository: () => Promise.resolve(session.images),
          accelerator,
          events,
          signal,
          force: forceGiven(options),
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
    command
      .argument('<dir|id>', "the build's folder, or with a server the build's id")
      .option('--detach', 'with a server: queue the build again and return, without following it');
    addForceOption(command, "(with a data directory) the recipe's output.disk");
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const which = String(args[0]);
    if (onServer(options)) {
      return withRepository(options, async (session) => {
        return queuedOn(session, await session.builds.resume(which), options, 'queued again');
      });
    }
    return withRepository(options, (session) =>
      withBuildConsole(LOCAL_STOP, async (events, signal) => {
        const record = await resumeBuild({
          work: which,
          repository: () => Promise.resolve(session.images),
          events,
          signal,
          force: forceGiven(options),
        });
        return { data: record, text: recordText(record, which) };
      }),
    );
  },
};
