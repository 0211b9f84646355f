import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';

test('--version prints the package version', async () => {
  const run = await runWinsmith(['--version']);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('--help lists the commands', async () => {
  const run = await runWinsmith(['--help']);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /Usage: winsmith/);
});

test('an unknown command is a usage error on one line with exit code 2', async () => {
  const run = await runWinsmith(['frobnicate']);
  assert.equal(run.code, 2);
  assert.ok(isCleanFailure(run), run.stderr);
});
