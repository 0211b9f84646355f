import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { text as streamText } from 'node:stream/consumers';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { listShareFiles, openShareFile } from './deployment-share.ts';
import { parseProfile } from './profile.ts';

let dir = '';
let share = '';

/** The steps of a profile whose customize: is `steps` (one YAML line each), read from p.yaml. */
function stepsOf(...steps: string[]) {
  return parseProfile(
    `name: web\nimage: a:v1\ncustomize:\n${steps.map((s) => `  - ${s}\n`).join('')}`,
    'p.yaml',
  ).customize;
}

function failsWith(expected: RegExp, code: string) {
  return (e: unknown) => e instanceof AppError && e.code === code && expected.test(e.message);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-share-'));
  share = join(dir, 'share');
  await mkdir(join(share, 'drivers', 'viostor', 'amd64'), { recursive: true });
  await mkdir(join(share, 'scripts'));
  await writeFile(join(share, 'drivers', 'viostor', 'viostor.inf'), '[Version]\r\n');
  await writeFile(join(share, 'drivers', 'viostor', 'amd64', 'viostor.sys'), 'sys');
  await writeFile(join(share, 'scripts', 'first.ps1'), 'Write-Output first');
  await writeFile(join(dir, 'secret.txt'), 'not for agents');
  await symlink(join(share, 'scripts', 'first.ps1'), join(share, 'scripts', 'again.ps1'));
  await symlink(join(dir, 'secret.txt'), join(share, 'scripts', 'escape.ps1'));
  await mkdir(join(share, 'bad'));
  await symlink(join(dir, 'secret.txt'), join(share, 'bad', 'escape.inf'));
});

after(() => rm(dir, { recursive: true, force: true }));

/** SHA-256 of `text`, hexadecimal. */
function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

test('the files the steps name, and those in the folders they name, by path, size and SHA-256', async () => {
  const steps = stepsOf(
    'drivers: [ drivers\\viostor ]',
    'firstboot: [ { powershell: { file: scripts/first.ps1 } }, { cmd: hi } ]',
    "files: { add: [ { src: scripts/again.ps1, dest: 'x\\y.ps1' }, { src: scripts/first.ps1, dest: z } ] }",
  );
  assert.deepEqual(await listShareFiles(share, steps), [
    { path: 'drivers/viostor/amd64/viostor.sys', size: 3, sha256: sha256('sys') },
    { path: 'drivers/viostor/viostor.inf', size: 11, sha256: sha256('[Version]\r\n') },
    { path: 'scripts/first.ps1', size: 18, sha256: sha256('Write-Output first') },
    { path: 'scripts/again.ps1', size: 18, sha256: sha256('Write-Output first') },
  ]);
});

test('a file changed in the share is listed with its new SHA-256', async () => {
  const steps = stepsOf('firstboot: [ { cmd: { file: scripts/changing.cmd } } ]');
  const file = join(share, 'scripts', 'changing.cmd');
  await writeFile(file, 'echo one');
  assert.equal((await listShareFiles(share, steps))[0]?.sha256, sha256('echo one'));
  await writeFile(file, 'echo two');
  await utimes(file, new Date(), new Date(Date.now() + 5000));
  assert.equal((await listShareFiles(share, steps))[0]?.sha256, sha256('echo two'));
});

test('steps with inline content only need no share', async () => {
  const steps = stepsOf("firstboot: [ { cmd: 'echo 1' } ]", 'files: { add: [ { content: hi, dest: x } ] }');
  assert.deepEqual(await listShareFiles(join(dir, 'no-share'), steps), []);
});

test('each problem names the step: missing, of the wrong kind, leading outside, no driver, no share', async () => {
  await assert.rejects(
    listShareFiles(share, stepsOf('firstboot: [ { cmd: { file: scripts/none.cmd } } ]')),
    failsWith(/^p\.yaml:4:33: scripts\/none\.cmd is not in the deployment share$/, 'FILE_NOT_FOUND'),
  );
  await assert.rejects(
    listShareFiles(share, stepsOf('drivers: [ scripts/first.ps1 ]')),
    failsWith(
      /^p\.yaml:4:16: scripts\/first\.ps1 in the deployment share is a file, not a directory$/,
      'INVALID_ARGUMENT',
    ),
  );
  await assert.rejects(
    listShareFiles(share, stepsOf('registry: { import: [ scripts/escape.ps1 ] }')),
    failsWith(
      /^p\.yaml:4:27: scripts\/escape\.ps1 leads outside the deployment share \(to .*secret\.txt\)$/,
      'FORBIDDEN',
    ),
  );
  await assert.rejects(
    listShareFiles(share, stepsOf('drivers: [ bad ]')),
    failsWith(/^p\.yaml:4:16: bad\/escape\.inf leads outside the deployment share/, 'FORBIDDEN'),
  );
  await mkdir(join(share, 'no-driver'));
  await writeFile(join(share, 'no-driver', 'readme.txt'), 'no package here');
  await assert.rejects(
    listShareFiles(share, stepsOf('drivers: [ no-driver ]')),
    failsWith(/^p\.yaml:4:16: no-driver in the deployment share holds no \.inf file$/, 'NOT_FOUND'),
  );
  await assert.rejects(
    listShareFiles(join(dir, 'no-share'), stepsOf('drivers: [ drivers/viostor ]')),
    failsWith(/^p\.yaml:4:16: the deployment share .*no-share does not exist$/, 'FILE_NOT_FOUND'),
  );
});

test('the agent opens only a file the steps name or one inside a folder they name, inside the share', async () => {
  const steps = stepsOf(
    'drivers: [ drivers/viostor, bad ]',
    'firstboot: [ { cmd: { file: scripts/first.ps1 } } ]',
  );
  const named = await openShareFile(share, steps, 'scripts/first.ps1');
  assert.equal(named.size, 18);
  assert.equal(await streamText(named.stream(6, 10)), 'Outpu');
  const inside = await openShareFile(share, steps, 'drivers/viostor/amd64/viostor.sys');
  assert.equal(await streamText(inside.stream(0, inside.size - 1)), 'sys');
  for (const path of [
    'scripts/again.ps1',
    'drivers',
    'drivers/viostor/../../scripts/escape.ps1',
    '/etc/hostname',
    '',
  ]) {
    await assert.rejects(openShareFile(share, steps, path), failsWith(/names no file/, 'FORBIDDEN'), path);
  }
  await assert.rejects(
    openShareFile(share, steps, 'bad/escape.inf'),
    failsWith(/leads outside/, 'FORBIDDEN'),
  );
  await assert.rejects(
    openShareFile(share, steps, 'drivers/viostor/none.cat'),
    failsWith(/not in the deployment share/, 'FILE_NOT_FOUND'),
  );
});
