// `winsmith profiles` and `winsmith profile apply|show|rm`: the deployment profiles of a
// repository. `apply` checks a YAML file key by key (errors at FILE:LINE:COLUMN) and stores it
// under the name it gives, replacing a profile of that name; `show` prints it with passwords masked.

import { readFile } from 'node:fs/promises';
import type { ProfileView } from '../../app/deployments.ts';
import { AppError } from '../../core/errors.ts';
import { requireFile } from '../../io/paths.ts';
import type { CliCommand } from '../command.ts';
import { formatFields, formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

/** A profile file is read whole; one this large is not a profile. */
const MAX_PROFILE_FILE = 256 * 1024;

/** A profile's customize: steps, e.g. '2 steps (drivers, firstboot)'. */
function stepsText(kinds: readonly string[] | undefined): string {
  if (kinds === undefined || kinds.length === 0) return 'none';
  return `${kinds.length} step${kinds.length === 1 ? '' : 's'} (${kinds.join(', ')})`;
}

function summaryText(p: ProfileView): string {
  const s = p.summary;
  return formatFields([
    ['name', p.name],
    ['image', s.image],
    ['edition', String(s.edition)],
    ['firmware', s.firmware],
    ['computer name', s.computerName ?? '(Windows picks one)'],
    ['admin password', s.adminPassword ?? 'none set'],
    ['customize', stepsText(s.customize)],
    ['finish', s.finish],
    ['updated', `${p.updatedAt}${p.updatedBy === null ? '' : ` by ${p.updatedBy}`}`],
  ]);
}

export const profiles: CliCommand = {
  path: ['profiles'],
  summary: 'list the deployment profiles of a repository',
  define(command) {
    addRepoOption(command);
  },
  async run(_ctx, _args, options) {
    return withRepository(options, async (session) => {
      const list = await session.profiles.list();
      const rows = list.map((p) => [
        p.name,
        p.summary.image,
        String(p.summary.edition),
        p.summary.firmware,
        stepsText(p.summary.customize),
        p.updatedAt,
      ]);
      return {
        data: list,
        text:
          list.length === 0
            ? "no profiles; add one with 'winsmith profile apply FILE.yaml'"
            : formatTable(['NAME', 'IMAGE', 'EDITION', 'FIRMWARE', 'CUSTOMIZE', 'UPDATED'], rows),
      };
    });
  },
};

export const profileApply: CliCommand = {
  path: ['profile', 'apply'],
  summary: 'check a deployment profile (YAML) and store it under its name, replacing one of that name',
  define(command) {
    command.argument('<file>', 'the profile, e.g. web.yaml (see docs/deploy.md)');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const file = String(args[0]);
    const stats = await requireFile(file);
    if (stats.size > MAX_PROFILE_FILE) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${file} is ${stats.size} bytes; a profile is at most ${MAX_PROFILE_FILE}`,
        {
          hint: 'give the profile file itself',
        },
      );
    }
    const text = await readFile(file, 'utf8');
    return withRepository(options, async (session) => {
      const profile = await session.profiles.apply(text, file);
      return { data: profile, text: summaryText(profile) };
    });
  },
};

export const profileShow: CliCommand = {
  path: ['profile', 'show'],
  summary: 'show a deployment profile as stored, passwords masked',
  define(command) {
    command.argument('<name>', 'the profile name');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const profile = await session.profiles.show(String(args[0]));
      return { data: profile, text: profile.yaml };
    });
  },
};

export const profileRm: CliCommand = {
  path: ['profile', 'rm'],
  summary: 'remove a deployment profile (deployments made from it keep what they were made with)',
  define(command) {
    command.argument('<name>', 'the profile name');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const name = String(args[0]);
    return withRepository(options, async (session) => {
      await session.profiles.remove(name);
      return { data: { removed: name }, text: `removed profile ${name}` };
    });
  },
};
