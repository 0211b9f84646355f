// One name for "replace the output": every command that writes a file or folder refuses an existing
// output naming --force, replaces it with --force, and still takes the former --overwrite (hidden).

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';

const WRITERS = [
  ['sample'],
  ['image', 'capture'],
  ['image', 'apply'],
  ['image', 'export'],
  ['image', 'extract'],
  ['image', 'split'],
  ['image', 'join'],
  ['image', 'customize'],
  ['disk'],
  ['pull'],
  ['reg', 'new'],
  ['reg', 'export'],
  ['bcd', 'create'],
  ['unattend', 'render'],
  ['media', 'extract'],
  ['bootenv', 'build'],
  ['build'],
  ['build', 'resume'],
  ['build', 'screenshot'],
];

test('every command that writes a file lists --force, and not the former --overwrite', async () => {
  for (const path of WRITERS) {
    const help = await runWinsmith([...path, '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--force +replace /, path.join(' '));
    assert.doesNotMatch(help.stdout, /--overwrite/, path.join(' '));
  }
});

test('an existing output is refused naming --force; --force and --overwrite replace it', async () => {
  await withTempDir(async (dir) => {
    const wim = join(dir, 's.wim');
    const ok = async (...args: string[]) => {
      const run = await runWinsmith(args, { cwd: dir });
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
    };
    const refused = async (...args: string[]) => {
      const run = await runWinsmith(args, { cwd: dir });
      assert.ok(isCleanFailure(run), `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /already (exists|there).*pass --force/, args.join(' '));
    };
    await ok('sample', '-o', wim);
    await ok('image', 'apply', wim, 'tree');

    const cases: string[][] = [
      ['sample', '-o', wim],
      ['image', 'capture', 'tree', 'cap.wim', '--name', 'x', '--compress', 'none'],
      ['image', 'apply', wim, 'tree'],
      ['image', 'extract', wim, '/Windows/System32/config/SOFTWARE', '-o', 'x'],
      ['image', 'split', wim, 'p.swm', '--part-size', '1'],
      ['image', 'join', 'j.wim', 'p.swm'],
      ['reg', 'new', 'h.hive'],
      ['disk', wim, '-o', 'd.raw', '--size', '1G'],
    ];
    for (const args of cases) {
      if (args[0] !== 'sample' && args[1] !== 'apply') await ok(...args);
      await refused(...args);
      await ok(...args, '--force');
      await ok(...args, '--overwrite');
    }
  });
});

test('export appends to an existing WIM; with --force it writes a new one; --name and --description name the copy', async () => {
  await withTempDir(async (dir) => {
    const wim = join(dir, 's.wim');
    const out = join(dir, 'out.wim');
    assert.equal((await runWinsmith(['sample', '-o', wim])).code, 0);
    const info = async (): Promise<{ images: { name: string; description: string | null }[] }> =>
      JSON.parse((await runWinsmith(['image', 'info', out, '--json'])).stdout) as {
        images: { name: string; description: string | null }[];
      };
    const first = await runWinsmith([
      'image',
      'export',
      wim,
      out,
      '--name',
      'Copy',
      '--description',
      'a copy',
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(
      (await info()).images.map((i) => [i.name, i.description]),
      [['Copy', 'a copy']],
    );
    const described = await runWinsmith(['image', 'export', wim, out, '--description', 'only described']);
    assert.equal(described.code, 0, described.stderr);
    assert.deepEqual(
      (await info()).images.map((i) => [i.name, i.description]),
      [
        ['Copy', 'a copy'],
        ['Windows Server 2022 SERVERSTANDARD', 'only described'],
      ],
    );
    const replaced = await runWinsmith(['image', 'export', wim, out, '--force', '--name', 'Fresh']);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(
      (await info()).images.map((i) => i.name),
      ['Fresh'],
    );
  });
});

test('split --force replaces the numbered parts of the same name, and no other file', async () => {
  await withTempDir(async (dir) => {
    const wim = join(dir, 's.wim');
    assert.equal((await runWinsmith(['sample', '-o', wim, '--size', '3MiB', '--compress', 'none'])).code, 0);
    await writeFile(join(dir, 'p9.swm'), 'an old part');
    await writeFile(join(dir, 'parts.swm'), 'not a part');
    const split = await runWinsmith([
      'image',
      'split',
      wim,
      join(dir, 'p.swm'),
      '--part-size',
      '1',
      '--force',
    ]);
    assert.equal(split.code, 0, split.stderr);
    assert.equal(await readFile(join(dir, 'parts.swm'), 'utf8'), 'not a part');
    await assert.rejects(readFile(join(dir, 'p9.swm')));
  });
});
