import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { DirectorySession } from './directory-session.ts';
import { ImageWork } from './image-work.ts';
import { applySteps } from './run-steps.ts';
import type { WimEdition } from '../wim-info.ts';

let dir = '';
let root = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-directory-session-'));
  root = join(dir, 'volume');
  await mkdir(join(root, 'Windows', 'Setup', 'Scripts'), { recursive: true });
  await mkdir(join(root, 'Windows', 'Temp', 'old'), { recursive: true });
  await writeFile(join(root, 'Windows', 'Setup', 'Scripts', 'SetupComplete.cmd'), 'echo previous\r\n');
  await writeFile(join(root, 'Windows', 'Temp', 'old', 'a.log'), 'a');
  await writeFile(join(root, 'Windows', 'Temp', 'b.log'), 'b');
});

after(() => rm(dir, { recursive: true, force: true }));

test('the listing is every file and folder, with its kind, folders before what they hold', async () => {
  const entries = await new DirectorySession(root).list();
  const paths = entries.map((e) => e.path);
  assert.ok(paths.indexOf('/Windows/Temp') < paths.indexOf('/Windows/Temp/old/a.log'));
  assert.deepEqual(
    entries.filter((e) => e.path.startsWith('/Windows/Temp')).sort((a, b) => a.path.localeCompare(b.path)),
    [
      { path: '/Windows/Temp', isDir: true },
      { path: '/Windows/Temp/b.log', isDir: false },
      { path: '/Windows/Temp/old', isDir: true },
      { path: '/Windows/Temp/old/a.log', isDir: false },
    ],
  );
});

test('extract copies each path under its base name', async () => {
  const out = join(dir, 'extracted');
  await mkdir(out);
  await new DirectorySession(root).extract(['/Windows/Temp/b.log', '/Windows/Temp/old'], out);
  assert.deepEqual((await readdir(out)).sort(), ['b.log', 'old']);
  assert.equal(await readFile(join(out, 'old', 'a.log'), 'utf8'), 'a');
});

test('commit adds (making folders, replacing a file), deletes and renames, in order', async () => {
  const tree = join(dir, 'commit');
  await mkdir(join(tree, 'A'), { recursive: true });
  await writeFile(join(tree, 'A', 'x.txt'), 'old');
  await mkdir(join(tree, 'Gone', 'deep'), { recursive: true });
  const source = join(dir, 'source.txt');
  await writeFile(source, 'new');
  await new DirectorySession(tree).commit(
    [
      { op: 'add', source, dest: '/A/x.txt' },
      { op: 'add', source, dest: '/B/C/y.txt' },
      { op: 'delete', path: '/Gone' },
      { op: 'rename', from: '/A', to: '/D' },
    ],
    {},
  );
  assert.deepEqual((await readdir(tree)).sort(), ['B', 'D']);
  assert.equal(await readFile(join(tree, 'D', 'x.txt'), 'utf8'), 'new');
  assert.equal(await readFile(join(tree, 'B', 'C', 'y.txt'), 'utf8'), 'new');
});

test('a path leaving the tree and an image property are refused', async () => {
  const session = new DirectorySession(join(dir, 'commit'));
  await assert.rejects(
    session.commit([{ op: 'delete', path: '/../volume' }], {}),
    (e: unknown) => e instanceof AppError && /leads outside the image/.test(e.message),
  );
  await assert.rejects(
    session.commit([], { NAME: 'x' }),
    (e: unknown) => e instanceof AppError && /no image properties to set \(NAME\)/.test(e.message),
  );
});

test('the recipe step code runs on a tree: files, and first-boot scripts chained onto SetupComplete.cmd', async () => {
  const session = new DirectorySession(root);
  const work = new ImageWork({ session, dir: join(dir, 'work'), files: await session.list() });
  const edition = { index: 1 } as WimEdition;
  await applySteps(
    work,
    [
      {
        kind: 'files',
        add: [{ from: 'content', content: 'hi', dest: 'ProgramData\\x\\hi.txt', where: 't:1:1' }],
        remove: [{ pattern: 'Windows\\Temp\\*', where: 't:2:1' }],
        rename: [],
      },
      { kind: 'firstboot', scripts: [{ shell: 'cmd', text: 'echo one', where: 't:3:1' }] },
    ],
    edition,
    'test',
  );
  await work.commit();
  assert.equal(await readFile(join(root, 'ProgramData', 'x', 'hi.txt'), 'utf8'), 'hi');
  assert.deepEqual(await readdir(join(root, 'Windows', 'Temp')), []);
  const scripts = join(root, 'Windows', 'Setup', 'Scripts');
  assert.deepEqual((await readdir(join(scripts, 'winsmith-test'))).sort(), [
    '00-previous-SetupComplete.cmd',
    '01-cmd.cmd',
  ]);
  const setup = await readFile(join(scripts, 'SetupComplete.cmd'), 'utf8');
  assert.match(setup, /call "%WINDIR%\\Setup\\Scripts\\winsmith-test\\00-previous-SetupComplete\.cmd"/);
  assert.match(setup, /cmd\.exe \/d \/c "%WINDIR%\\Setup\\Scripts\\winsmith-test\\01-cmd\.cmd"/);
  assert.deepEqual(
    work.changes.map((c) => `${c.step} ${c.action} ${c.target}`),
    [
      '1 remove /Windows/Temp/b.log',
      '1 remove /Windows/Temp/old',
      '1 add /ProgramData/x/hi.txt',
      '2 firstboot cmd',
      '0 keep /Windows/Setup/Scripts/winsmith-test/00-previous-SetupComplete.cmd',
      '0 add /Windows/Setup/Scripts/winsmith-test/01-cmd.cmd',
      '0 replace /Windows/Setup/Scripts/SetupComplete.cmd',
    ],
  );
});
