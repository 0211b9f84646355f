import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { mkdir, readFile, stat, truncate, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../io/output.ts';
import { runPiped, runProgram, startService } from './run.ts';

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

test('a service keeps its output, gives each line as it comes, and ends on stop', async () => {
  const lines: string[] = [];
  const service = startService('curl', ['--version'], { onLine: (l) => lines.push(l) });
  const exit = await service.exited;
  assert.deepEqual([exit.code, exit.signal, exit.error], [0, null, null]);
  assert.equal(service.running(), false);
  assert.match(service.output(), /^curl \d/);
  assert.ok(lines[0]?.startsWith('curl '), lines.join('|'));

  // Reading /dev/zero never ends: only the stop does.
  const endless = startService('curl', ['--silent', '--output', '/dev/null', 'file:///dev/zero']);
  assert.equal(endless.running(), true);
  const stopped = await endless.stop(2000);
  assert.equal(endless.running(), false);
  assert.equal(stopped.signal, 'SIGTERM');
});

test('a service whose program is missing ends with the error naming its package', async () => {
  const service = startService('nbdfuse', [], { env: { PATH: '/nonexistent' } });
  const exit = await service.exited;
  assert.ok(exit.error instanceof AppError && exit.error.code === 'MISSING_PROGRAM');
  assert.match(exit.error.hint ?? '', /apt-get install -y libnbd-bin/);
});

test('a service kept to its last characters gives only those, its lines still all given', async () => {
  const lines: string[] = [];
  const service = startService('curl', ['--version'], { onLine: (l) => lines.push(l), keepLast: 20 });
  const exit = await service.exited;
  assert.equal(exit.code, 0);
  const whole = `${lines.join('\n')}\n`;
  assert.ok(whole.length > 40, 'curl --version writes more than is kept');
  assert.equal(service.output(), whole.slice(-20));
});

test('a pipeline: a producer failing after its whole output leaves the consumer to succeed; cut short, its failure is the error', async () => {
  await withTempDir(async (dir) => {
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'a.txt'), 'x'.repeat(100_000));
    const wim = join(dir, 'p.wim');
    await runProgram('wimlib-imagex', ['capture', tree, wim, 'p', '--pipable']);
    const cut = join(dir, 'cut.wim');
    await copyFile(wim, cut);
    await truncate(cut, Math.floor((await stat(wim)).size / 2));
    // curl writes the first file, then fails (exit 37) on the one that is not there.
    const producer = (file: string) =>
      ({ program: 'curl', args: ['-sS', `file://${file}`, `file://${join(dir, 'missing')}`] }) as const;
    const applied = join(dir, 'applied');
    await runPiped(producer(wim), { program: 'wimlib-imagex', args: ['apply', '-', '1', applied] });
    assert.equal(await readFile(join(applied, 'a.txt'), 'utf8'), 'x'.repeat(100_000));
    await assert.rejects(
      runPiped(producer(cut), { program: 'wimlib-imagex', args: ['apply', '-', '1', join(dir, 'cut')] }),
      (e: unknown) => e instanceof AppError && /^curl .*failed \(exit 37\): curl: \(37\)/.test(e.message),
    );
    // A line the program prints at every exit is never taken as the message of its failure.
    await assert.rejects(
      runPiped(
        { ...producer(cut), exitLine: /^curl: \(37\)/ },
        { program: 'wimlib-imagex', args: ['apply', '-', '1', join(dir, 'cut-again')] },
      ),
      (e: unknown) => e instanceof AppError && /^curl .*failed \(exit 37\): no message$/.test(e.message),
    );
  });
});
