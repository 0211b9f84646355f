#!/usr/bin/env node
// The winsmith command: the only place that sets the process's exit code, and that ends the process
// when SIGINT or SIGTERM stops a command that does not stop itself (build, lab deploy, server and the
// watches do): the programs it started are ended and its scratch is removed before it exits.

import { exitCodeOf } from '../core/error-codes.ts';
import { AppError } from '../core/errors.ts';
import { killProgramsNow } from '../engines/run.ts';
import { removeOwnScratchNow } from '../io/scratch.ts';
import { errorLine, runCli } from './run-cli.ts';

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
    const stopped = new AppError('INTERRUPTED', `stopped by ${signal}`, {
      hint: 'its temporary files are removed; run the command again',
    });
    process.stderr.write(`\n${errorLine(stopped, process.argv.includes('--json'))}\n`);
    process.exit(exitCodeOf('INTERRUPTED'));
  });
}

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
