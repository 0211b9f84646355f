// Each engine operation once against the real wimlib-imagex (and ntfs-3g's mkntfs/ntfsls for
// NTFS volumes in plain files): capture, append, apply, update, export, optimize, split, join,
// verify, delete, with progress events.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppError } from '../../src/core/errors.ts';
import type { ProgressEvent } from '../../src/core/progress.ts';
import { runProgram } from '../../src/engines/run.ts';
import {
  findSplitParts,
  wimAppend,
  wimApply,
  wimCapture,
  wimDeleteImage,
  wimExport,
  wimExtract,
  wimJoin,
  wimListFiles,
  wimOptimize,
  wimSplit,
  wimUpdate,
  wimVerify,
  WimSession,
} from '../../src/engines/wimlib.ts';
import { withFileSource } from '../../src/io/file-source.ts';
import { readWimInfo, type WimInfo } from '../../src/image/wim-info.ts';
import { wimTree } from '../disk/helpers.ts';
import { describeTree, makeSampleTree, noise } from './wim-fixtures.ts';

let dir = '';
let tree = '';
let base = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-wimlib-'));
  tree = join(dir, 'tree');
  await makeSampleTree(tree);
  base = join(dir, 'base.wim');
  await wimCapture(tree, base, { name: 'Base', compression: 'LZX' });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const info = (path: string): Promise<WimInfo> => withFileSource(path, readWimInfo);

async function listing(path: string, index = 1): Promise<unknown> {
  return (await wimListFiles(path, index)).sort((a, b) => a.path.localeCompare(b.path));
}

async function newNtfsVolume(path: string): Promise<void> {
  await writeFile(path, '');
  await truncate(path, 16 * 1024 * 1024);
  await runProgram('mkntfs', ['-F', '-Q', '-L', 'Windows', path]);
}

test('capture from a directory with properties, progress events and an integrity table', async () => {
  const events: ProgressEvent[] = [];
  const out = join(dir, 'captured.wim');
  await wimCapture(tree, out, {
    name: 'Server',
    description: 'captured by the test',
    compression: 'XPRESS',
    chunkSize: 65536,
    imageProperties: { 'WINDOWS/EDITIONID': 'ServerStandard', 'WINDOWS/ARCH': '9' },
    flags: 'ServerStandard',
    check: true,
    onProgress: (e) => events.push(e),
  });
  const wim = await info(out);
  assert.deepEqual(
    [wim.compression, wim.chunkSize, wim.images[0]?.name, wim.images[0]?.description],
    ['XPRESS', 65536, 'Server', 'captured by the test'],
  );
  assert.deepEqual([wim.images[0]?.editionId, wim.images[0]?.arch], ['ServerStandard', 'amd64']);
  assert.deepEqual(await listing(out), await describeTree(tree));
  const archiving = events.filter((e) => e.phase === 'Archiving file data');
  assert.ok(archiving.length > 0, JSON.stringify(events));
  assert.equal(archiving.at(-1)?.done, archiving.at(-1)?.total);
  assert.ok(events.some((e) => e.phase === 'Calculating integrity table for WIM'));
});

test('apply to a new directory restores every file', async () => {
  const target = join(dir, 'applied');
  const events: ProgressEvent[] = [];
  await wimApply(base, 1, target, { onProgress: (e) => events.push(e) });
  assert.deepEqual(await describeTree(target), await describeTree(tree));
  assert.ok(events.some((e) => e.phase === 'Extracting file data'));
});

test('apply to an NTFS volume in a file (ntfsls reads it), capture back from that volume', async () => {
  const volume = join(dir, 'ntfs.img');
  await newNtfsVolume(volume);
  await wimApply(base, 1, volume);
  const ls = (await runProgram('ntfsls', ['-R', '-p', '/', volume])).stdout.toString('utf8');
  for (const name of ['hello.txt', 'Grüße aus Zürich – ünïcode.txt', 'notes with spaces.ini', 'SOFTWARE']) {
    assert.ok(ls.includes(name), `ntfsls lists ${name}:\n${ls}`);
  }
  // A named stream (ADS) on hello.txt must not be taken for its contents.
  const zone = join(dir, 'zone');
  await writeFile(zone, '[ZoneTransfer]\nZoneId=3\n');
  await runProgram('ntfscp', ['-f', '-N', 'Zone.Identifier', volume, zone, '/hello.txt']);
  const back = join(dir, 'from-ntfs.wim');
  await wimCapture(volume, back, { name: 'From NTFS', compression: 'LZX' });
  const files = (await wimListFiles(back, 1)).filter((e) => !e.path.startsWith('/$'));
  const byPath = new Map(files.map((e) => [e.path, e]));
  for (const entry of (await describeTree(tree)) as { path: string; sha1: string | null; size: number }[]) {
    const found = byPath.get(entry.path);
    assert.ok(found !== undefined, `${entry.path} captured back`);
    assert.deepEqual([found.size, found.sha1], [entry.size, entry.sha1], entry.path);
  }
});

test('extract paths with spaces and non-ASCII names into a directory', async () => {
  const dest = join(dir, 'extracted');
  await mkdir(dest);
  await wimExtract(
    base,
    1,
    ['/Windows/System32/notes with spaces.ini', 'Windows/Grüße aus Zürich – ünïcode.txt'],
    dest,
  );
  assert.deepEqual((await readdir(dest)).sort(), ['Grüße aus Zürich – ünïcode.txt', 'notes with spaces.ini']);
  assert.equal(await readFile(join(dest, 'Grüße aus Zürich – ünïcode.txt'), 'utf8'), 'non-ASCII name\n');
});

test('the listing has the paths, sizes and SHA-1s wimdir --detailed prints', async () => {
  const listed = await wimListFiles(base, 1);
  const reference = await wimTree(base, 1);
  const files = listed.filter((e) => e.path !== '/');
  assert.equal(files.length, reference.size);
  for (const e of files) {
    assert.deepEqual(
      e.isDir ? { size: -1, sha1: null } : { size: e.size, sha1: e.sha1 },
      reference.get(e.path),
      e.path,
    );
  }
  assert.deepEqual(
    (await wimListFiles(base, 1, { path: '/Windows' })).map((e) => e.path),
    listed.filter((e) => e.path === '/Windows' || e.path.startsWith('/Windows/')).map((e) => e.path),
  );
  await assert.rejects(
    wimListFiles(base, 1, { path: '/no such folder' }),
    (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND',
  );
});

test('update adds, renames and deletes in place, and sets properties in the same write', async () => {
  const wim = join(dir, 'update.wim');
  await wimExport(base, 1, wim);
  const added = join(dir, 'unattend \'x\'\n"y".xml');
  await writeFile(added, '<unattend/>');
  const events: ProgressEvent[] = [];
  await wimUpdate(
    wim,
    1,
    [
      { op: 'add', source: added, dest: '/Windows/Panther/unattend.xml' },
      { op: 'rename', from: '/hello.txt', to: '/hello "renamed".txt' },
      { op: 'delete', path: '/Windows/System32' },
      { op: 'delete', path: '/empty dir' },
    ],
    {
      properties: { NAME: 'Updated', 'WINSMITH/NOTE': 'line one\nline two' },
      onProgress: (e) => events.push(e),
    },
  );
  const paths = ((await wimListFiles(wim, 1)) as { path: string }[]).map((e) => e.path);
  assert.ok(paths.includes('/Windows/Panther/unattend.xml'));
  assert.ok(paths.includes('/hello "renamed".txt'));
  assert.equal((await info(wim)).images[0]?.name, 'Updated');
  assert.match(await readFile(wim, 'latin1'), /L\0I\0N\0E\0 \0O\0N\0E\0/i);
  assert.ok(events.some((e) => e.unit === 'bytes' && e.done === e.total && e.total === '<unattend/>'.length));
  assert.ok(!paths.includes('/hello.txt'));
  assert.ok(!paths.some((p) => p.startsWith('/Windows/System32') || p === '/empty dir'));
  await assert.rejects(
    wimUpdate(wim, 1, [{ op: 'add', source: 'a\0b', dest: '/x' }]),
    (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT',
  );
});

test('a session lists, extracts and writes through one opening; closed without commit it writes nothing', async () => {
  const wim = join(dir, 'session.wim');
  await wimExport(base, 1, wim);
  const before = await readFile(wim);
  const out = join(dir, 'session-out');
  await mkdir(out);

  const idle = WimSession.open(wim, 1);
  assert.deepEqual(await idle.list(), await wimListFiles(wim, 1));
  await idle.extract(['/hello.txt', '/Windows/System32/config/SOFTWARE'], out);
  await idle.close();
  assert.deepEqual(await readFile(wim), before);
  assert.equal(await readFile(join(out, 'hello.txt'), 'utf8'), 'hello from a wim\n');
  assert.equal((await readFile(join(out, 'SOFTWARE'))).length, 48 * 1024);

  const failing = WimSession.open(wim, 1);
  await assert.rejects(
    failing.extract(['/no such file'], out),
    (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND',
  );
  await assert.rejects(failing.close(), (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND');
  assert.deepEqual(await readFile(wim), before);

  const writing = WimSession.open(wim, 1);
  await writing.list();
  await writing.commit([{ op: 'delete', path: '/hello.txt' }], { DESCRIPTION: 'one write' });
  assert.ok(!(await wimListFiles(wim, 1)).some((e) => e.path === '/hello.txt'));
  assert.equal((await info(wim)).images[0]?.description, 'one write');
});

test('a session reads a long listing of non-ASCII names whole, whatever the pipe splits', async () => {
  const names = join(dir, 'names');
  await mkdir(names);
  // Names mostly of 2-byte characters: the 64 KiB pipe reads split some of them.
  await Promise.all(
    Array.from({ length: 4000 }, (_, i) => writeFile(join(names, `${'é'.repeat(20)}-${i}.txt`), '')),
  );
  const wim = join(dir, 'names.wim');
  await wimCapture(names, wim, { name: 'names' });
  const session = WimSession.open(wim, 1);
  const listed = await session.list();
  await session.close();
  assert.equal(listed.length, 4001);
  assert.deepEqual(listed, await wimListFiles(wim, 1));
});

test('append, export to solid LZMS, delete an image', async () => {
  const wim = join(dir, 'multi.wim');
  await wimExport(base, 1, wim, { name: 'One' });
  await wimAppend(join(tree, 'Windows'), wim, { name: 'Two' });
  assert.deepEqual(
    (await info(wim)).images.map((i) => i.name),
    ['One', 'Two'],
  );
  const esd = join(dir, 'two.esd');
  await wimExport(wim, 2, esd, { compression: 'LZMS', solid: true });
  const exported = await info(esd);
  assert.deepEqual([exported.compression, exported.solid, exported.images[0]?.name], ['LZMS', true, 'Two']);
  assert.deepEqual(await listing(esd), await listing(wim, 2));
  await wimDeleteImage(wim, 1);
  assert.deepEqual(
    (await info(wim)).images.map((i) => i.name),
    ['Two'],
  );
});

test('optimize with recompression keeps the content and verify passes', async () => {
  const wim = join(dir, 'optimize.wim');
  await wimCapture(tree, wim, { name: 'Opt', compression: 'none' });
  await writeFile(join(dir, 'big.bin'), noise(64 * 1024, 3));
  await wimUpdate(wim, 1, [{ op: 'add', source: join(dir, 'big.bin'), dest: '/big.bin' }]);
  await wimUpdate(wim, 1, [{ op: 'delete', path: '/big.bin' }]);
  const before = await listing(wim);
  await wimOptimize(wim, { recompress: true, compression: 'LZX' });
  assert.equal((await info(wim)).compression, 'LZX');
  assert.deepEqual(await listing(wim), before);
  const events: ProgressEvent[] = [];
  await wimVerify(wim, { onProgress: (e) => events.push(e) });
  assert.ok(events.some((e) => e.phase === 'Verifying metadata' && e.unit === 'items'));
});

test('split into parts found by name, apply and verify the split WIM, join it back', async () => {
  const first = join(dir, 'parts', 'install.swm');
  await mkdir(join(dir, 'parts'));
  const parts = await wimSplit(base, first, 0.02);
  assert.ok(parts.length >= 2, parts.join());
  assert.deepEqual(await findSplitParts(first), parts.slice(1));
  assert.equal((await info(first)).parts, parts.length);
  await wimVerify(first);
  const applied = join(dir, 'from-split');
  await wimApply(first, 1, applied);
  assert.deepEqual(await describeTree(applied), await describeTree(tree));
  const joined = join(dir, 'joined.wim');
  await wimJoin(joined, [...parts].reverse());
  const joinedInfo = await info(joined);
  assert.equal(joinedInfo.parts, 1);
  assert.equal(joinedInfo.guid, (await info(first)).guid);
  await wimVerify(joined);
  assert.deepEqual(await listing(joined), await describeTree(tree));
});

test('verify finds a corrupted file', async () => {
  const wim = join(dir, 'corrupt.wim');
  await wimCapture(tree, wim, { name: 'C', compression: 'none' });
  const bytes = await readFile(wim);
  const at = bytes.indexOf(Buffer.from('hello from a wim'));
  assert.ok(at > 0);
  bytes[at] = 0x48;
  await writeFile(wim, bytes);
  await assert.rejects(
    wimVerify(wim),
    (e: unknown) =>
      e instanceof AppError && e.code === 'PROGRAM_FAILED' && /verify failed \(exit \d+\): ./.test(e.message),
  );
});
