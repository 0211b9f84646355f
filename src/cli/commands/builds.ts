// `winsmith builds` lists the builds a server runs (or ran), newest first, with their state and
// phase; `winsmith build show|logs|screenshot|cancel ID`: one of them.

import { setTimeout as sleep } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import type { Session } from '../../app/session.ts';
import { writeOutputFile } from '../../io/output.ts';
import { BUILD_HEADER, buildRow, buildText, hasBuildEnded } from '../build-text.ts';
import type { CliCommand, CliContext, CliResult } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';
import { formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const builds: CliCommand = {
  path: ['builds'],
  summary: 'list the builds the server runs and ran, newest first, with their state and phase',
  define(command) {
    addRepoOption(command);
  },
  async run(_ctx, _args, options) {
    return withRepository(options, async (session) => {
      const list = await session.builds.list();
      return {
        data: list,
        text: list.length === 0 ? 'no builds' : formatTable(BUILD_HEADER, list.map(buildRow)),
      };
    });
  },
};

export const buildShow: CliCommand = {
  path: ['build', 'show'],
  summary: 'show one build: who started it, its output, state, phases and provisioning steps',
  define(command) {
    command.argument('<id>', 'the build id');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const build = await session.builds.show(String(args[0]));
      return { data: build, text: buildText(build) };
    });
  },
};

/** The VM's serial log from `offset` to its end as it is now, part by part to `write`; the offset after it. */
async function readSerial(
  session: Session,
  id: string,
  offset: number,
  write: (text: string) => void,
): Promise<number> {
  let at = offset;
  for (;;) {
    const part = await session.builds.serial(id, at);
    write(part.text);
    if (part.next === at) return at;
    at = part.next;
  }
}

/** Prints new lines (or serial output) every second until the build ends or Ctrl-C. */
async function follow(
  ctx: CliContext,
  session: Session,
  id: string,
  serial: boolean,
  from: number,
): Promise<CliResult> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  let after = from;
  try {
    for (;;) {
      const { state } = await session.builds.show(id);
      if (serial) {
        after = await readSerial(session, id, after, (text) => process.stdout.write(text));
      } else {
        const batch = await session.builds.logs(id, after);
        for (const l of batch)
          process.stdout.write(ctx.json ? `${JSON.stringify(l)}\n` : `${l.at} ${l.line}\n`);
        after = batch.at(-1)?.id ?? after;
      }
      if (hasBuildEnded({ state }) || controller.signal.aborted) {
        return { data: { id, state }, text: `build ${id}: ${state}`, exitCode: state === 'done' ? 0 : 1 };
      }
      await sleep(1000, undefined, { signal: controller.signal }).catch(() => undefined);
    }
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

export const buildLogs: CliCommand = {
  path: ['build', 'logs'],
  summary:
    "print a build's log (phases, steps, the guest's reports), or its VM's serial log; --follow to its end",
  define(command) {
    command
      .argument('<id>', 'the build id')
      .option('--serial', "the VM's serial console instead")
      .option('--follow', 'keep printing as it comes, until the build ends');
    addRepoOption(command);
  },
  async run(ctx, args, options) {
    const id = String(args[0]);
    const serial = options.serial === true;
    return withRepository(options, async (session) => {
      if (options.follow === true) return follow(ctx, session, id, serial, 0);
      if (serial) {
        let text = '';
        await readSerial(session, id, 0, (part) => (text += part));
        return { data: { id, serial: text }, text: text.replace(/\n$/, '') };
      }
      const lines = await session.builds.logs(id, 0);
      return { data: lines, text: lines.map((l) => `${l.at} ${l.line}`).join('\n') };
    });
  },
};

export const buildScreenshot: CliCommand = {
  path: ['build', 'screenshot'],
  summary: "save a build VM's latest screenshot as a PNG file",
  define(command) {
    command.argument('<id>', 'the build id').requiredOption('-o, --output <file>', 'the PNG file to write');
    addForceOption(command, 'the file');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const output = String(options.output);
    return withRepository(options, async (session) => {
      const png = await session.builds.screenshot(String(args[0]));
      await writeOutputFile(output, (tmp) => writeFile(tmp, png), { overwrite: forceGiven(options) });
      return { data: { output, bytes: png.byteLength }, text: `wrote ${output} (${png.byteLength} bytes)` };
    });
  },
};

export const buildCancel: CliCommand = {
  path: ['build', 'cancel'],
  summary: 'cancel a queued build, or stop a running one (its folder is kept: `winsmith build resume ID`)',
  define(command) {
    command.argument('<id>', 'the build id');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const build = await session.builds.cancel(String(args[0]));
      return { data: build, text: buildText(build) };
    });
  },
};

export const buildRemove: CliCommand = {
  path: ['build', 'rm'],
  summary: "remove a build that is over, with its folder on the server (the VM's disks, log, screenshots)",
  define(command) {
    command.argument('<id>', 'the build id');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const id = String(args[0]);
    return withRepository(options, async (session) => {
      await session.builds.remove(id);
      return { data: { id, removed: true }, text: `removed build ${id}` };
    });
  },
};
