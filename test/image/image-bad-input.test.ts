// Bad input to the image commands: a missing file, a truncated WIM, a text file named .wim, an
// index out of range, several images and none chosen. Each must exit non-zero with one clean
// line, and leave no output behind.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';
import { makeSampleWims, type SampleWims } from './wim-fixtures.ts';

let dir = '';
let wims: SampleWims;
const bad: Record<string, string> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-image-bad-'));
  wims = await makeSampleWims(dir);
  const whole = await readFile(wims.lzx);
  bad.missing = join(dir, 'no such.wim');
  bad.truncatedHalf = join(dir, 'half.wim');
  await writeFile(bad.truncatedHalf, whole.subarray(0, whole.length >> 1));
  bad.truncatedHeader = join(dir, 'header-cut.wim');
  await writeFile(bad.truncatedHeader, whole.subarray(0, 100));
  bad.text = join(dir, 'notes.wim');
  await writeFile(bad.text, 'This is a text file, not a Windows image.\n'.repeat(20));
  bad.empty = join(dir, 'empty.wim');
  await writeFile(bad.empty, '');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectCleanFailure(args: readonly string[], pattern: RegExp): Promise<void> {
  const run = await runWinsmith(args);
  assert.ok(isCleanFailure(run), `${args.join(' ')}\nexit ${run.code}\n${run.stderr}`);
  assert.match(run.stderr, pattern);
  assert.equal(run.stdout, '');
}

/** Runs the commands at once; none may add anything to the test directory. */
async function expectAllFail(runs: readonly [readonly string[], RegExp][]): Promise<void> {
  const before = await readdir(dir);
  await Promise.all(runs.map(([args, pattern]) => expectCleanFailure(args, pattern)));
  assert.deepEqual(await readdir(dir), before, 'nothing may be written');
}

const cases: [string, () => string, RegExp][] = [
  ['a missing file', () => bad.missing ?? '', /does not exist/],
  ['a WIM cut in half', () => bad.truncatedHalf ?? '', /truncated/],
  [
    'a WIM cut inside its header',
    () => bad.truncatedHeader ?? '',
    /header is 208 bytes; the input has only 100/,
  ],
  ['a text file named .wim', () => bad.text ?? '', /expected the WIM magic/],
  ['an empty file named .wim', () => bad.empty ?? '', /only 0/],
];

for (const [what, path, pattern] of cases) {
  test(`image info, files and extract of ${what} fail on one line and write nothing`, async () => {
    await expectAllFail([
      [['image', 'info', path()], pattern],
      [['image', 'files', path()], pattern],
      [['image', 'extract', path(), '/hello.txt', '-o', join(dir, 'out')], pattern],
    ]);
  });
}

test('with --json the failure is one JSON line on stderr with the code', async () => {
  const run = await runWinsmith(['image', 'info', bad.text ?? '', '--json']);
  assert.equal(run.code, 4);
  assert.equal(run.stdout, '');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1);
  const body = JSON.parse(lines[0] ?? '') as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'FORMAT_INVALID');
  assert.match(body.error.message, /expected the WIM magic/);
});

test('an index out of range, or several images and none chosen: the error lists the images', async () => {
  await expectAllFail([
    [['image', 'files', `${wims.lzx}:2`], /has no image 2; it holds 1 \(LZX image\)/],
    [
      ['image', 'files', `${wims.multi}:4`],
      /has no image 4; it holds 1 \(First\), 2 \(Second\), 3 \(Third\)/,
    ],
    [['image', 'extract', `${wims.multi}:9`, '/hello.txt', '-o', join(dir, 'out')], /no image 9/],
    [['image', 'files', `${wims.lzx}:0`], /is not an image index/],
    [
      ['image', 'files', wims.multi],
      /holds 3 images: 1 \(First\), 2 \(Second\), 3 \(Third\).*multi\.wim:INDEX/,
    ],
  ]);
});

test('a path the image lacks, or an output that exists: extraction fails and leaves nothing', async () => {
  await expectAllFail([
    [
      ['image', 'extract', wims.lzx, '/no/such/file', '-o', join(dir, 'out')],
      /wimlib-imagex extract failed \(exit 49\): Path "\/no\/such\/file" does not exist in WIM image 1/,
    ],
    [['image', 'extract', wims.lzx, '/hello.txt', '-o', dir], /already exists/],
  ]);
});
