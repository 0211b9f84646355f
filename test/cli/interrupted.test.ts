// Interrupted commands leave nothing behind. Each long command (capture, export, disk, customize,
// pull) is stopped at several points: SIGINT removes its scratch at once (and the programs it ran
// are ended); after SIGKILL, which nothing can catch, the next run of a command in the same folder
// removes what the dead process left, and leaves what a live one works in. A pull keeps its
// .OUT.partial on purpose: the next pull resumes from it (docs/server.md).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withTempDir } from '../../src/io/output.ts';
import { scratchOwner } from '../../src/io/scratch.ts';
import { runWinsmith } from '../helpers/cli.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** When to send the signal: a time after the start, or after the command's work showed on disk. */
type KillPoint = { readonly atStart: number } | { readonly afterScratch: number };

const SIGINT_POINTS: readonly KillPoint[] = [
  { atStart: 150 },
  { afterScratch: 0 },
  { afterScratch: 300 },
  { afterScratch: 1000 },
];
const SIGKILL_POINTS: readonly KillPoint[] = [{ afterScratch: 0 }, { afterScratch: 600 }];

/** The scratch of process `pid` in `dirs`. */
async function scratchOf(pid: number, dirs: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    for (const name of await readdir(dir).catch(() => [])) {
      if (scratchOwner(name) === pid) found.push(join(dir, name));
    }
  }
  return found;
}

interface Stopped {
  readonly pid: number;
  /** The signal reached the command while it ran (it had not ended on its own). */
  readonly interrupted: boolean;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs `command` in `cwd` and sends it `signal` at `point`. */
async function stopAt(
  command: LongCommand,
  cwd: string,
  signal: NodeJS.Signals,
  point: KillPoint,
): Promise<Stopped> {
  const before = await progressSize(command, cwd);
  const child = spawn(process.execPath, [MAIN, ...command.args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const closed = new Promise<{ code: number | null }>((resolve) =>
    child.once('close', (code) => {
      resolve({ code });
    }),
  );
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const pid = child.pid ?? 0;
  if ('atStart' in point) {
    await sleep(point.atStart);
  } else {
    while (running() && !(await workShows(command, pid, cwd, before))) await sleep(10);
    await sleep(point.afterScratch);
  }
  const interrupted = running();
  if (interrupted) child.kill(signal);
  const { code } = await closed;
  return { pid, interrupted, code, stderr };
}

interface LongCommand {
  readonly name: string;
  /** The command line; it writes `out` in the folder it runs in. */
  readonly args: readonly string[];
  readonly out: string;
  /** A file it writes as it goes, other than scratch (a pull's partial download). */
  readonly progressFile?: string;
}

/** The size of `command`'s progress file in `cwd` (0 when it has none, or it is not there). */
async function progressSize(command: LongCommand, cwd: string): Promise<number> {
  if (command.progressFile === undefined) return 0;
  return (await stat(join(cwd, command.progressFile)).catch(() => null))?.size ?? 0;
}

/**
 * Whether `command`, run as `pid` in `cwd`, is at its work: its scratch is there, or its progress
 * file grew past the `before` bytes an earlier run left (a resumed pull first checks those).
 */
async function workShows(command: LongCommand, pid: number, cwd: string, before: number): Promise<boolean> {
  if (command.progressFile !== undefined) return (await progressSize(command, cwd)) > before;
  return (await scratchOf(pid, [cwd, tmpdir()])).length > 0;
}

/** What the commands work on, made once: a 64 MiB sample (stored), its tree, a repository holding a bigger one. */
async function prepare(dir: string): Promise<LongCommand[]> {
  const ok = async (...args: string[]) => {
    const run = await runWinsmith(args, { cwd: dir });
    assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
  };
  await ok('sample', '-o', 'big.wim', '--size', '64MiB', '--compress', 'none');
  await ok('image', 'export', 'big.wim', 'lzx.wim', '--compress', 'lzx');
  await ok('image', 'apply', 'big.wim', 'tree');
  // Bigger: a pull from a data directory goes fast, and must last past the last SIGINT point.
  await ok('sample', '-o', 'pulled.wim', '--size', '384MiB', '--compress', 'none');
  await ok('push', 'pulled.wim', 'lab/big:v1', '--repo', 'data', '--init');
  await rm(join(dir, 'pulled.wim'));
  await writeFile(join(dir, 'noise.bin'), randomBytes(48 * 1024 * 1024));
  await writeFile(
    join(dir, 'recipe.yaml'),
    `customize:\n  - files: { add: [ { src: ${join(dir, 'noise.bin')}, dest: 'Windows\\Temp\\noise.bin' } ] }\n`,
  );
  await mkdir(join(dir, 'work'));
  return [
    { name: 'capture', args: ['image', 'capture', '../tree', 'out.wim', '--name', 'x'], out: 'out.wim' },
    {
      name: 'export',
      args: ['image', 'export', '../big.wim', 'out.wim', '--compress', 'lzx'],
      out: 'out.wim',
    },
    { name: 'disk', args: ['disk', '../lzx.wim', '-o', 'out.qcow2', '--size', '2G'], out: 'out.qcow2' },
    {
      name: 'customize',
      args: ['image', 'customize', '../lzx.wim', '--recipe', '../recipe.yaml', '-o', 'out.wim'],
      out: 'out.wim',
    },
    {
      name: 'pull',
      args: ['pull', 'lab/big:v1', '-o', 'out.wim', '--repo', '../data'],
      out: 'out.wim',
      progressFile: '.out.wim.partial',
    },
  ];
}

/** The next run of a command in `work`: a small disk, which makes scratch there and in the temporary folder. */
async function nextRun(work: string): Promise<void> {
  const run = await runWinsmith(['disk', '../lzx.wim', '-o', 'next.raw', '--size', '1G', '--force'], {
    cwd: work,
  });
  assert.equal(run.code, 0, run.stderr);
  await rm(join(work, 'next.raw'));
}

test(
  'SIGINT and SIGKILL at several points of each long command leave no scratch behind',
  { timeout: 900_000 },
  async () => {
    await withTempDir(async (dir) => {
      const commands = await prepare(dir);
      const work = join(dir, 'work');
      const dirs = [work, tmpdir()];
      for (const command of commands) {
        let interrupted = 0;
        for (const point of SIGINT_POINTS) {
          const what = `${command.name}, SIGINT at ${JSON.stringify(point)}`;
          // Each stop from the start: a pull resumed from the last one's partial file has less to
          // do each time, and on a fast machine ends before the later points (the resume is tried
          // after the SIGKILLs below).
          if (command.progressFile !== undefined) await rm(join(work, command.progressFile), { force: true });
          const stopped = await stopAt(command, work, 'SIGINT', point);
          assert.deepEqual(await scratchOf(stopped.pid, dirs), [], `${what}: scratch left`);
          if (stopped.interrupted && stopped.code !== null) {
            interrupted++;
            assert.equal(stopped.code, 130, `${what}: ${stopped.stderr}`);
            assert.match(stopped.stderr, /error: stopped by SIGINT/, what);
            await assert.rejects(stat(join(work, command.out)), `${what}: a partial output appeared`);
          }
          await rm(join(work, command.out), { force: true });
        }
        assert.ok(interrupted >= 2, `${command.name}: only ${interrupted} SIGINT reached it while it ran`);

        for (const point of SIGKILL_POINTS) {
          const what = `${command.name}, SIGKILL at ${JSON.stringify(point)}`;
          const stopped = await stopAt(command, work, 'SIGKILL', point);
          await nextRun(work);
          assert.deepEqual(
            await scratchOf(stopped.pid, dirs),
            [],
            `${what}: scratch left after the next run`,
          );
          await rm(join(work, command.out), { force: true });
        }

        const left = (await readdir(work)).filter((n) => n !== `.${command.out}.partial`);
        assert.deepEqual(left, [], `${command.name}: left in the folder`);
        if (command.name === 'pull') {
          const resumed = await runWinsmith(command.args, { cwd: work });
          assert.equal(resumed.code, 0, resumed.stderr);
          const pulled = await runWinsmith(['image', 'verify', 'out.wim'], { cwd: work });
          assert.equal(pulled.code, 0, pulled.stderr);
          assert.deepEqual(await readdir(work), ['out.wim']);
          await rm(join(work, 'out.wim'));
        }
      }
    });
  },
);

test('the next run leaves the scratch of a process that still runs', async () => {
  await withTempDir(async (dir) => {
    const live = spawn('sleep', ['60']);
    try {
      const theirs = join(dir, `.out.wim.winsmith-${live.pid ?? 0}-AbCdEf`);
      await mkdir(theirs);
      await writeFile(join(theirs, 'out.wim'), 'being written');
      const run = await runWinsmith(['sample', '-o', 'mine.wim'], { cwd: dir });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(await readFile(join(theirs, 'out.wim'), 'utf8'), 'being written');
    } finally {
      live.kill();
    }
  });
});
