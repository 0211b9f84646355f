#!/usr/bin/env node
// The winsmith command: the only place that sets the process's exit code.

import { runCli } from './run-cli.ts';

// A reader that stops early (`winsmith image files x.wim | head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
