// Every command winsmith has, in the order `winsmith --help` lists them.

import type { CliCommand } from '../command.ts';

export const COMMANDS: readonly CliCommand[] = [];
