import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { runProgram } from './run.ts';

test('a program that fails is a PROGRAM_FAILED error quoting its last line', async () => {
  await assert.rejects(
    runProgram('wimlib-imagex', ['info', '/nonexistent/x.wim']),
    (e: unknown) =>
      e instanceof AppError && e.code === 'PROGRAM_FAILED' && /wimlib-imagex info failed/.test(e.message),
  );
});

test('lines are split on carriage returns as well as newlines', async () => {
  const lines: string[] = [];
  await runProgram('wimlib-imagex', ['--version'], { onLine: (l) => lines.push(l) });
  assert.ok(
    lines.some((l) => /wimlib-imagex/.test(l)),
    lines.join('|'),
  );
});

test('a missing program names the Debian package to install', async () => {
  await assert.rejects(
    runProgram('wimlib-imagex', [], { env: { PATH: '/nonexistent' } }),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'MISSING_PROGRAM' &&
      /apt-get install -y wimtools/.test(e.hint ?? ''),
  );
});
