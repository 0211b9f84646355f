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

test('"did you mean" suggestions are on the one error line', async () => {
  for (const [args, expected] of [
    [['imgae', 'info', 'x.wim'], "error: unknown command 'imgae'; did you mean image? — see"],
    [['image', 'inof', 'x.wim'], "error: unknown command 'inof'; did you mean info? — see"],
    [['image', 'info', 'x.wim', '--jsn'], "error: unknown option '--jsn'; did you mean --json? — see"],
    [['images', '--repoo', 'x'], "error: unknown option '--repoo'; did you mean --repo? — see"],
  ] as const) {
    const run = await runWinsmith(args);
    assert.ok(isCleanFailure(run), run.stderr);
    assert.ok(run.stderr.startsWith(expected), run.stderr);
  }
});
