import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  makeScratchDir,
  processRuns,
  removeOwnScratchNow,
  removeStaleScratch,
  scratchOwner,
} from './scratch.ts';

test('scratch names carry their owner; other names are never taken for scratch', () => {
  assert.equal(scratchOwner('.lzx.wim.winsmith-1234-AbC9xy'), 1234);
  assert.equal(scratchOwner('winsmith-42-abcdef'), 42);
  assert.equal(scratchOwner('winsmith-disk-42-abcdef'), 42);
  for (const name of [
    'lzx.wim',
    '.lzx.wim.AbC9xy',
    'winsmith-data',
    'x.winsmith-12-abcdef',
    '.a.winsmith-0-abcdef',
  ]) {
    assert.equal(scratchOwner(name), null, name);
  }
});

test('a process that ended does not run', async () => {
  const child = spawn('sleep', ['30']);
  const pid = child.pid ?? 0;
  assert.ok(processRuns(pid));
  assert.ok(processRuns(process.pid));
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGKILL');
  await closed;
  assert.equal(processRuns(pid), false);
});

test("stale scratch goes, a live process's stays, other files stay", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scratch-test-'));
  try {
    const sleeper = spawn('sleep', ['30']);
    const ended = spawn('true');
    await new Promise((resolve) => ended.once('close', resolve));
    const live = `.out.wim.winsmith-${sleeper.pid ?? 0}-AAAAAA`;
    const dead = `.out.wim.winsmith-${ended.pid ?? 0}-BBBBBB`;
    await mkdir(join(dir, live));
    await mkdir(join(dir, dead));
    await writeFile(join(dir, dead, 'out.wim'), 'partial');
    await writeFile(join(dir, 'out.wim'), 'kept');
    await removeStaleScratch(dir);
    assert.deepEqual((await readdir(dir)).sort(), [live, 'out.wim'].sort());
    sleeper.kill();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('removeOwnScratchNow removes every scratch folder of this process', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scratch-test-'));
  try {
    const a = await makeScratchDir(dir, 'a.raw', true);
    await writeFile(join(a, 'a.raw'), 'x');
    await makeScratchDir(dir, 'b.wim', true);
    assert.equal((await readdir(dir)).length, 2);
    removeOwnScratchNow();
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
