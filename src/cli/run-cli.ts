// Builds the command tree from the command registry, runs one command line, prints its result, and
// turns every failure into one line on stderr and an exit code. It never exits the process itself.
// Only the modules of the command the line names (and of its subcommands) are imported; every other
// command is listed from its registry entry, which is all `--help` of the top level or a group shows.

import { winsmithVersion } from '../app/version.ts';
import { Command, CommanderError } from 'commander';
import { exitCodeOf } from '../core/error-codes.ts';
import { AppError, errorText, isAppError, printable } from '../core/errors.ts';
import type { CliCommand } from './command.ts';
import { GROUP_SUMMARIES } from './commands/groups.ts';
import { COMMANDS, type CommandEntry } from './commands/index.ts';
import { createProgressBar } from './progress-bar.ts';
import { INSECURE_WARNING } from './repo-option.ts';

export interface CliIo {
  readonly stdout: NodeJS.WriteStream | NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
}

function groupFor(root: Command, words: readonly string[]): Command {
  let parent = root;
  for (const word of words) {
    const found = parent.commands.find((c) => c.name() === word);
    parent = found ?? parent.command(word).description(GROUP_SUMMARIES[word] ?? `${word} commands`);
  }
  return parent;
}

/**
 * The entries a command line runs or shows the help of: the longest registered path its leading
 * words name (`help WORD` ends them, `--` is skipped, as in commander), with every command below it.
 */
function namedEntries(argv: readonly string[], commands: readonly CommandEntry[]): CommandEntry[] {
  const words: string[] = [];
  for (const [i, arg] of argv.entries()) {
    if (arg === '--') continue;
    if (arg.startsWith('-')) break;
    if (arg === 'help') {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('-')) words.push(next);
      break;
    }
    words.push(arg);
  }
  const startsWith = (path: readonly string[], prefix: readonly string[]): boolean =>
    prefix.length <= path.length && prefix.every((w, i) => path[i] === w);
  let named: CommandEntry | undefined;
  for (const entry of commands) {
    if (startsWith(words, entry.path) && entry.path.length > (named?.path.length ?? 0)) named = entry;
  }
  return named === undefined ? [] : commands.filter((e) => startsWith(e.path, named.path));
}

/** The one line an error is on stderr: `error: MESSAGE — HINT`, or with --json its JSON object. */
export function errorLine(e: AppError, json: boolean): string {
  if (json) return JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint ?? null } });
  return `error: ${e.message}${e.hint === undefined ? '' : ` — ${e.hint}`}`;
}

function causeChain(e: unknown): string {
  const parts: string[] = [];
  let current: unknown = e;
  while (current instanceof Error) {
    parts.push(current.stack ?? current.message);
    current = current.cause;
  }
  return parts.join('\ncaused by: ');
}

export async function runCli(
  argv: readonly string[],
  io: CliIo,
  commands: readonly CommandEntry[] = COMMANDS,
): Promise<number> {
  let exitCode = 0;
  let debug = argv.includes('--debug');
  const json = argv.includes('--json');
  const root = new Command('winsmith')
    .description('Build, customize, store and deploy Windows Server images from a Linux host')
    .version(winsmithVersion(), '-V, --version', 'print the version')
    .helpCommand(true)
    // Options belong to the command they follow, so a command with subcommands (`disk` and
    // `disk verify`) can share option names with them.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined,
    });

  /** What running a loaded command does: run it, print its result, keep its exit code. */
  const actionOf =
    (spec: CliCommand, command: Command) =>
    async (...params: unknown[]) => {
      const options = command.opts<Record<string, unknown>>();
      debug = options.debug === true;
      const bar = createProgressBar(io.stderr);
      const args = params.slice(0, command.registeredArguments.length);
      if (options.insecure === true) io.stderr.write(`${INSECURE_WARNING}\n`);
      try {
        const result = await spec.run({ json: options.json === true, progress: bar.listener }, args, options);
        bar.finish();
        io.stdout.write(
          options.json === true ? `${JSON.stringify(result.data, null, 2)}\n` : ensureNewline(result.text),
        );
        exitCode = result.exitCode ?? 0;
      } finally {
        bar.finish();
      }
    };

  try {
    const named = namedEntries(argv, commands);
    const loaded = new Map<CommandEntry, CliCommand>(
      await Promise.all(named.map(async (e) => [e, await e.load()] as const)),
    );
    for (const entry of commands) {
      const name = entry.path.at(-1);
      if (name === undefined) throw new AppError('INTERNAL', 'a command has an empty path');
      const command = groupFor(root, entry.path.slice(0, -1)).command(name).description(entry.summary);
      const spec = loaded.get(entry);
      if (spec !== undefined) spec.define(command);
      else if (entry.args !== '') command.arguments(entry.args);
      command
        .option('--json', 'print machine-readable JSON on stdout')
        .option('--debug', 'on error, print the full cause and stack');
      if (spec !== undefined) command.action(actionOf(spec, command));
    }
    for (const group of root.commands) group.exitOverride();
    await root.parseAsync(argv, { from: 'user' });
  } catch (e) {
    exitCode = reportError(e, io, { debug, json });
  }
  return exitCode;
}

function ensureNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * Commander's message on one line: its suggestion, which it puts on a line of its own
 * (`\n(Did you mean --json?)`), follows the problem after a semicolon.
 */
export function commanderLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\(Did you mean (.+)\?\)$/, '; did you mean $1?')
    .replace(/\s*\n\s*/g, '; ');
}

function reportError(e: unknown, io: CliIo, flags: { debug: boolean; json: boolean }): number {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) return 0;
    const message = printable(commanderLine(e.message));
    io.stderr.write(`error: ${message} — see 'winsmith --help' or the command's --help\n`);
    return exitCodeOf('USAGE');
  }
  const appError = isAppError(e)
    ? e
    : new AppError('INTERNAL', `unexpected failure: ${errorText(e)}`, {
        hint: 'this is a bug in winsmith; run again with --debug and report what it prints',
        cause: e,
      });
  io.stderr.write(`${errorLine(appError, flags.json)}\n`);
  if (flags.debug) io.stderr.write(`${causeChain(appError)}\n`);
  return exitCodeOf(appError.code);
}
