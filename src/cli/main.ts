#!/usr/bin/env node
// The winsmith command: the only place that sets the process's exit code.

import { runCli } from './run-cli.ts';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
