// --repo names a repository, never a new one by accident: a path that is not one, a file, or
// host:port with no scheme is one error line and nothing is written; `init` and `push --init` make one.

import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';

test('a path that is not a repository is refused with the way to make one, and nothing is made', async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, 'nothere');
    const run = await runWinsmith(['images', '--repo', missing]);
    assert.ok(isCleanFailure(run), run.stderr);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /expected a repository, found nothing there/);
    assert.match(run.stderr, new RegExp(`winsmith init ${missing}', or pass --init to the first push`));
    assert.deepEqual(await readdir(dir), []);

    await mkdir(join(dir, 'empty'));
    const empty = await runWinsmith(['store', 'stats', '--repo', join(dir, 'empty')]);
    assert.ok(isCleanFailure(empty), empty.stderr);
    assert.match(empty.stderr, /found an empty directory/);
    assert.deepEqual(await readdir(join(dir, 'empty')), []);

    await writeFile(join(dir, 'notes.txt'), 'x');
    const other = await runWinsmith(['images', '--repo', dir]);
    assert.ok(isCleanFailure(other), other.stderr);
    assert.match(other.stderr, /a directory with no catalog\.sqlite/);

    const env = await runWinsmith(['images'], { env: { WINSMITH_REPO: missing } });
    assert.ok(isCleanFailure(env), env.stderr);
    assert.match(env.stderr, /^error: WINSMITH_REPO=.*nothere: expected a repository/);
  });
});

test('a file given as the repository is a clear error, not INTERNAL', async () => {
  const run = await runWinsmith(['images', '--json', '--repo', '/etc/passwd']);
  const body = JSON.parse(run.stderr) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'NOT_A_REPOSITORY');
  assert.match(body.error.message, /\/etc\/passwd: expected a repository, but it is a file/);
});

test('host:port with no scheme: did you mean http://host:port?', async () => {
  for (const spec of ['localhost:8080', 'repo.example:8443/', '[::1]:8080']) {
    const run = await runWinsmith(['images', '--repo', spec]);
    assert.ok(isCleanFailure(run), run.stderr);
    assert.equal(run.code, 2);
    assert.ok(run.stderr.includes(`did you mean http://${spec}?`), run.stderr);
  }
});

test('init makes a repository (once), push --init makes one on the first push', async () => {
  await withTempDir(async (dir) => {
    const repo = join(dir, 'repo');
    const made = await runWinsmith(['init', repo]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /made a repository/);
    assert.match((await runWinsmith(['init', repo])).stdout, /a repository already; left as it is/);
    const listed = await runWinsmith(['images', '--repo', repo]);
    assert.equal(listed.code, 0, listed.stderr);

    await writeFile(join(dir, 'a.bin'), 'some bytes');
    const refused = await runWinsmith(['push', join(dir, 'a.bin'), 'a/b:v1', '--repo', join(dir, 'other')]);
    assert.ok(isCleanFailure(refused), refused.stderr);
    const pushed = await runWinsmith([
      'push',
      join(dir, 'a.bin'),
      'a/b:v1',
      '--repo',
      join(dir, 'other'),
      '--init',
    ]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match((await runWinsmith(['images', '--repo', join(dir, 'other')])).stdout, /a\/b +v1/);

    const onFile = await runWinsmith(['init', join(dir, 'a.bin')]);
    assert.ok(isCleanFailure(onFile), onFile.stderr);
    assert.match(onFile.stderr, /expected a new or empty directory, but it is a file/);
  });
});
