#!/usr/bin/env node
// The winsmith command: the only place that sets the process's exit code, and that ends the process
// when SIGINT or SIGTERM stops a command that does not stop itself (build, lab deploy, server and the
// watches do): the programs it started are ended and its scratch is removed before it exits.

import { ERROR_CODES } from '../core/error-codes.ts';
import { killProgramsNow } from '../engines/run.ts';
import { removeOwnScratchNow } from '../io/scratch.ts';
import { runCli } from './run-cli.ts';

// A reader that stops early (`winsmith image files x.wim | head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (process.listenerCount(signal) > 1) return;
    killProgramsNow();
    removeOwnScratchNow();
    process.stderr.write(
      `\nerror: stopped by ${signal} — its temporary files are removed; run the command again\n`,
    );
    process.exit(ERROR_CODES.INTERRUPTED.exit);
  });
}

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
