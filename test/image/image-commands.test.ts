// The image commands an administrator runs, through the CLI as a user would: capture, export,
// split, join, verify, optimize, apply; and a missing wimlib-imagex naming its package.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runProgram } from '../../src/engines/run.ts';
import { isCleanFailure, runWinsmith, type CliRun } from '../helpers/cli.ts';
import { describeTree, makeSampleTree } from './wim-fixtures.ts';

let dir = '';
let tree = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-image-cmd-'));
  tree = join(dir, 'tree');
  await makeSampleTree(tree);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function ok(args: readonly string[]): Promise<CliRun> {
  const run = await runWinsmith(args);
  assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
  return run;
}

async function json<T>(args: readonly string[]): Promise<T> {
  return JSON.parse((await ok([...args, '--json'])).stdout) as T;
}

test('capture, export to solid, split, join, verify, optimize and apply through the CLI', async () => {
  const wim = join(dir, 'install.wim');
  const captured = await ok([
    'image',
    'capture',
    tree,
    wim,
    '--name',
    'Server',
    '--description',
    'test',
    '--compress',
    'xpress',
    '--check',
  ]);
  assert.match(captured.stdout, /captured .* as "Server"/);
  const info = await json<{ compression: string; images: { name: string; description: string }[] }>([
    'image',
    'info',
    wim,
  ]);
  assert.deepEqual(
    [info.compression, info.images[0]?.name, info.images[0]?.description],
    ['XPRESS', 'Server', 'test'],
  );

  const esd = join(dir, 'install.esd');
  const second = join(dir, 'second.wim');
  await Promise.all([
    ok(['image', 'export', `${wim}:1`, esd, '--compress', 'lzms', '--solid']),
    ok(['image', 'split', wim, join(dir, 'parts.swm'), '--part-size', '0.02']),
    ok(['image', 'capture', join(tree, 'Windows'), second, '--name', 'Windows only']),
  ]);
  const esdInfo = await json<{ solid: boolean; compression: string }>(['image', 'info', esd]);
  assert.deepEqual([esdInfo.solid, esdInfo.compression], [true, 'LZMS']);
  await ok(['image', 'export', second, esd]);
  const names = await json<{ images: { name: string }[] }>(['image', 'info', esd]);
  assert.deepEqual(
    names.images.map((i) => i.name),
    ['Server', 'Windows only'],
  );

  const parts = (await readdir(dir)).filter((n) => n.endsWith('.swm')).sort();
  assert.ok(parts.length >= 2, parts.join());
  const joined = join(dir, 'joined.wim');
  const [verified] = await Promise.all([
    ok(['image', 'verify', join(dir, 'parts.swm')]),
    ok(['image', 'join', joined, ...parts.map((p) => join(dir, p))]),
  ]);
  assert.match(verified.stdout, /verified, no errors/);
  const optimized = await ok(['image', 'optimize', joined, '--recompress', '--compress', 'lzx']);
  assert.match(optimized.stdout, /→/);
  assert.equal((await json<{ compression: string }>(['image', 'info', joined])).compression, 'LZX');

  const applied = join(dir, 'applied');
  await ok(['image', 'apply', join(dir, 'parts.swm'), applied]);
  assert.deepEqual(await describeTree(applied), await describeTree(tree));
});

test('capture from and apply to an NTFS volume in a file, through the CLI', async () => {
  const volume = join(dir, 'volume.img');
  await writeFile(volume, '');
  await truncate(volume, 16 * 1024 * 1024);
  await runProgram('mkntfs', ['-F', '-Q', volume]);
  const wim = join(dir, 'for-ntfs.wim');
  await ok(['image', 'capture', tree, wim, '--name', 'N']);
  await ok(['image', 'apply', wim, volume]);
  const ls = (await runProgram('ntfsls', ['-p', '/Windows', volume])).stdout.toString('utf8');
  assert.match(ls, /Grüße aus Zürich – ünïcode\.txt/);
  const back = join(dir, 'back.wim');
  await ok(['image', 'capture', volume, back, '--name', 'Back']);
  const files = await json<{ path: string; sha1: string | null }[]>([
    'image',
    'files',
    back,
    '/Windows/System32',
  ]);
  assert.ok(files.some((f) => f.path === '/Windows/System32/config/SOFTWARE' && f.sha1 !== null));
});

test('bad arguments of the write commands fail cleanly and create nothing', async () => {
  const wim = join(dir, 'never.wim');
  const runs = await Promise.all([
    runWinsmith(['image', 'capture', join(dir, 'no-such-dir'), wim, '--name', 'X']),
    runWinsmith(['image', 'capture', tree, wim, '--name', 'X', '--compress', 'zip']),
    runWinsmith(['image', 'split', join(dir, 'missing.wim'), join(dir, 'p.swm'), '--part-size', '10']),
    runWinsmith(['image', 'split', join(dir, 'missing.wim'), join(dir, 'p.swm'), '--part-size', 'lots']),
  ]);
  for (const run of runs) assert.ok(isCleanFailure(run), run.stderr);
  assert.match(runs[1].stderr, /compression "zip" is not one of none, xpress, lzx, lzms/);
  const left = (await readdir(dir)).filter((n) => /^\.?(never\.wim|p\.swm)/.test(n));
  assert.deepEqual(left, []);
});

test('without wimlib-imagex the error names the package to install', async () => {
  const run = await runWinsmith(['image', 'capture', tree, join(dir, 'x.wim'), '--name', 'X'], {
    env: { PATH: '/nonexistent' },
  });
  assert.ok(isCleanFailure(run), run.stderr);
  assert.match(run.stderr, /wimlib-imagex is not installed.*apt-get install -y wimtools/);
});
