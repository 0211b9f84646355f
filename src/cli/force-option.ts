// `--force`, the one name every command that writes a file or folder gives to "replace the output
// when it exists". The spellings some commands had before (--overwrite) stay as hidden aliases.

import { Option, type Command } from 'commander';

export function addForceOption(command: Command, what = 'the output'): Command {
  return command
    .option('--force', `replace ${what} when it exists`)
    .addOption(new Option('--overwrite', 'the former name of --force').hideHelp());
}

/** Whether --force (or a former spelling of it) was given. */
export function forceGiven(options: Readonly<Record<string, unknown>>): boolean {
  return options.force === true || options.overwrite === true;
}
