// The shape every CLI command module exports. A command parses nothing itself (commander does),
// prints nothing (main does): it calls the domain and returns its result as data and as text.

import type { Command } from 'commander';
import type { ProgressListener } from '../core/progress.ts';

export interface CliContext {
  /** The user asked for --json: `data` is printed instead of `text`. */
  readonly json: boolean;
  /** Draws a progress bar on a terminal, nothing otherwise. */
  readonly progress: ProgressListener;
}

export interface CliResult {
  /** What --json prints. */
  readonly data: unknown;
  /** What a person reads. */
  readonly text: string;
  /** Exit status when the command ran but its answer is "no" (e.g. a check that found problems); 0 if absent. */
  readonly exitCode?: number;
}

export interface CliCommand {
  /** Words after `winsmith`, e.g. ['image', 'info']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Declares arguments and options on the commander command (and its --help text). */
  define(command: Command): void;
  /** `args` are the declared arguments in order; `options` what commander parsed. */
  run(
    ctx: CliContext,
    args: readonly unknown[],
    options: Readonly<Record<string, unknown>>,
  ): Promise<CliResult>;
}
