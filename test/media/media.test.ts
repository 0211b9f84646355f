// `winsmith media info` and `media extract` on a Windows-media-like UDF ISO built at test time,
// checked against the reference tools: wimlib-imagex info (editions) and 7zz (listing, extraction).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runProgram } from '../../src/engines/run.ts';
import { sevenZipList } from '../../src/engines/sevenzip.ts';
import { findEntry, openUdfFile, openUdfVolume, walkTree } from '../../src/formats/udf/volume.ts';
import { withFileSource } from '../../src/io/file-source.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';
import { buildMediaIso, makeUdfIso, MEDIA_LABEL, type BuiltMedia } from './media-fixture.ts';

let dir = '';
let media: BuiltMedia;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-media-'));
  media = await buildMediaIso(dir);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface WiminfoImage {
  index: number;
  name: string | null;
  description: string | null;
  editionId: string | null;
  installationType: string | null;
  build: string | null;
  arch: string | null;
  languages: string[];
  totalBytes: number | null;
  fileCount: number | null;
  dirCount: number | null;
}

/** The images `wimlib-imagex info` prints, in the shape of `media info --json`. */
async function wiminfo(wim: string): Promise<{ bootIndex: number; images: WiminfoImage[] }> {
  const text = (await runProgram('wimlib-imagex', ['info', wim])).stdout.toString('utf8');
  const field = (block: string, key: string): string | null =>
    new RegExp(`^${key}:\\s*(.*?)\\s*$`, 'm').exec(block)?.[1] ?? null;
  const number = (block: string, key: string): number | null => {
    const v = field(block, key);
    return v === null ? null : Number(v);
  };
  const arch: Record<string, string> = { x86_64: 'amd64', x86: 'x86', ARM64: 'arm64' };
  const blocks =
    text
      .split('Available Images:')[1]
      ?.split(/\n\s*\n/)
      .filter((b) => b.includes('Index:')) ?? [];
  return {
    bootIndex: number(text, 'Boot Index') ?? 0,
    images: blocks.map((b) => ({
      index: number(b, 'Index') ?? 0,
      name: field(b, 'Name'),
      description: field(b, 'Description'),
      editionId: field(b, 'Edition ID'),
      installationType: field(b, 'Installation Type'),
      build: [
        field(b, 'Major Version'),
        field(b, 'Minor Version'),
        field(b, 'Build'),
        field(b, 'Service Pack Build'),
      ].join('.'),
      arch: arch[field(b, 'Architecture') ?? ''] ?? null,
      languages: (field(b, 'Languages') ?? '').split(/\s+/).filter((l) => l !== ''),
      totalBytes: number(b, 'Total Bytes'),
      fileCount: number(b, 'File Count'),
      dirCount: number(b, 'Directory Count'),
    })),
  };
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

test('media info --json gives the label and what wimlib-imagex info says of the same WIMs', async () => {
  const run = await runWinsmith(['media', 'info', media.iso, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout) as {
    label: string;
    install: { path: string; images: unknown[] };
    boot: { path: string; images: unknown[] };
  };
  assert.equal(info.label, MEDIA_LABEL);
  assert.equal(info.install.path, 'sources/install.wim');
  assert.equal(info.boot.path, 'sources/boot.wim');
  const install = await wiminfo(join(media.tree, 'sources', 'install.wim'));
  const boot = await wiminfo(join(media.tree, 'sources', 'boot.wim'));
  assert.equal(install.images.length, 2);
  assert.equal(boot.bootIndex, 2);
  assert.deepEqual(info.install.images, install.images);
  assert.deepEqual(info.boot.images, boot.images);
});

test('media info prints the label, then a table of editions for install and boot', async () => {
  const run = await runWinsmith(['media', 'info', media.iso]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.equal(lines[0], `label: ${MEDIA_LABEL}`);
  assert.equal(lines[1], 'install: sources/install.wim (2 images)');
  assert.match(lines[2] ?? '', /^ {2}INDEX +NAME +EDITION +ARCH +BUILD +LANGUAGES +SIZE$/);
  assert.match(
    lines[3] ?? '',
    /^ {2}1 +Windows Server 2025 Standard +ServerStandard +amd64 +10\.0\.26100\.1742 +en-US/,
  );
  assert.match(
    lines[4] ?? '',
    /^ {2}2 +Windows Server 2025 Datacenter \(Desktop Experience\) +ServerDatacenter/,
  );
  assert.equal(lines[5], 'boot: sources/boot.wim (2 images)');
  assert.match(lines[8] ?? '', /^ {2}2 +Microsoft Windows Setup \(amd64\) +WindowsPE +amd64/);
});

test('the UDF reader lists what 7zz lists, and reads the same bytes', async () => {
  const ours = await withFileSource(media.iso, async (source) => {
    const volume = await openUdfVolume(source);
    const tree = await walkTree(volume);
    const withHashes = [];
    for (const e of tree) {
      const hash = e.isDirectory
        ? null
        : createHash('sha256')
            .update(await (await openUdfFile(volume, e)).read(0, e.size))
            .digest('hex');
      withHashes.push({ path: e.path, isDirectory: e.isDirectory, size: e.isDirectory ? 0 : e.size, hash });
    }
    return withHashes;
  });
  const theirs = await sevenZipList(media.iso, 'udf');
  const key = (e: { path: string }): string => e.path;
  assert.deepEqual(
    ours
      .map(({ path, isDirectory, size }) => ({ path, isDirectory, size }))
      .sort((a, b) => key(a).localeCompare(key(b))),
    [...theirs].sort((a, b) => key(a).localeCompare(key(b))),
  );
  for (const e of ours) {
    if (e.hash !== null) assert.equal(e.hash, await sha256(join(media.tree, e.path)), e.path);
  }
});

test('paths are looked up ignoring case, as Windows media mix cases', async () => {
  await withFileSource(media.iso, async (source) => {
    const volume = await openUdfVolume(source);
    assert.equal((await findEntry(volume, 'SOURCES/Install.WIM'))?.path, 'sources/install.wim');
    assert.equal((await findEntry(volume, '/EFI/Microsoft/Boot/BCD'))?.path, 'efi/microsoft/boot/bcd');
    assert.equal(await findEntry(volume, 'sources/missing.wim'), null);
    assert.equal(await findEntry(volume, 'setup.exe/below'), null);
  });
});

test('media extract writes install.wim and boot.wim, byte-identical to the originals', async () => {
  const out = join(dir, 'extracted');
  const run = await runWinsmith(['media', 'extract', media.iso, '-o', out, '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await listFiles(out), ['boot.wim', 'install.wim']);
  for (const name of ['install.wim', 'boot.wim']) {
    assert.equal(await sha256(join(out, name)), await sha256(join(media.tree, 'sources', name)), name);
  }
  const data = JSON.parse(run.stdout) as { files: { path: string; size: number }[] };
  assert.deepEqual(
    data.files.map((f) => f.path),
    ['install.wim', 'boot.wim'],
  );
  const again = await runWinsmith(['media', 'extract', media.iso, '-o', out]);
  assert.ok(isCleanFailure(again), again.stderr);
  assert.match(again.stderr, /already exists/);
  await writeFile(join(out, 'stale.txt'), 'from before');
  const replaced = await runWinsmith(['media', 'extract', media.iso, '-o', out, '--overwrite']);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.deepEqual(await listFiles(out), ['boot.wim', 'install.wim']);
});

test('media extract --all writes the whole media tree, byte for byte', async () => {
  const out = join(dir, 'all');
  const run = await runWinsmith(['media', 'extract', media.iso, '-o', out, '--all']);
  assert.equal(run.code, 0, run.stderr);
  const files = await listFiles(out);
  assert.deepEqual(files, await listFiles(media.tree));
  for (const f of files) assert.equal(await sha256(join(out, f)), await sha256(join(media.tree, f)), f);
});

test('media with sources/install.esd (a solid WIM) and no boot.wim', async () => {
  const work = await mkdtemp(join(dir, 'esd-'));
  const tree = join(work, 'tree');
  await mkdir(join(tree, 'Sources'), { recursive: true });
  const esd = join(tree, 'Sources', 'Install.esd');
  await runProgram('wimlib-imagex', [
    'export',
    join(media.tree, 'sources', 'install.wim'),
    'all',
    esd,
    '--solid',
  ]);
  const iso = join(work, 'esd.iso');
  await makeUdfIso(tree, iso);
  const run = await runWinsmith(['media', 'info', iso, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout) as {
    install: { path: string; images: { editionId: string }[] };
    boot: null;
  };
  assert.equal(info.install.path, 'Sources/Install.esd');
  assert.deepEqual(
    info.install.images.map((i) => i.editionId),
    ['ServerStandard', 'ServerDatacenter'],
  );
  assert.equal(info.boot, null);
  const text = await runWinsmith(['media', 'info', iso]);
  assert.match(text.stdout, /^boot: none$/m);
  const out = join(work, 'out');
  const extract = await runWinsmith(['media', 'extract', iso, '-o', out]);
  assert.equal(extract.code, 0, extract.stderr);
  assert.deepEqual(await listFiles(out), ['Install.esd']);
  assert.equal(await sha256(join(out, 'Install.esd')), await sha256(esd));
});

/** A clean one-line failure that leaves nothing behind in `parent`. */
async function assertFailsCleanly(args: string[], parent: string, pattern: RegExp): Promise<number> {
  const before = await readdir(parent);
  const run = await runWinsmith(args);
  assert.ok(isCleanFailure(run), `${String(run.code)} ${run.stderr}`);
  assert.match(run.stderr, pattern);
  assert.equal(run.stdout, '');
  assert.deepEqual(await readdir(parent), before);
  return run.code;
}

test('bad input: a missing ISO fails with one line, exit 3, nothing written', async () => {
  const work = await mkdtemp(join(dir, 'bad-'));
  const missing = join(work, 'missing.iso');
  assert.equal(await assertFailsCleanly(['media', 'info', missing], work, /missing\.iso does not exist/), 3);
  const out = join(work, 'out');
  assert.equal(await assertFailsCleanly(['media', 'extract', missing, '-o', out], work, /does not exist/), 3);
});

test('bad input: an ISO without sources/ fails with one line and a hint, nothing written', async () => {
  const work = await mkdtemp(join(dir, 'nosources-'));
  const tree = join(work, 'tree');
  await mkdir(join(tree, 'boot'), { recursive: true });
  await writeFile(join(tree, 'README.TXT'), 'not Windows media\n');
  const iso = join(work, 'plain.iso');
  await makeUdfIso(tree, iso);
  const expected =
    /without a sources\/ directory \(its top level holds: [^)]*README\.TXT[^)]*\) — give the ISO of Windows/;
  assert.equal(await assertFailsCleanly(['media', 'info', iso], work, expected), 4);
  await assertFailsCleanly(['media', 'extract', iso, '-o', join(work, 'out')], work, expected);
});

test('bad input: sources/ without an install image is NOT_FOUND', async () => {
  const work = await mkdtemp(join(dir, 'noinstall-'));
  const tree = join(work, 'tree');
  await mkdir(join(tree, 'sources'), { recursive: true });
  await writeFile(join(tree, 'sources', 'boot.wim'), await readFile(join(media.tree, 'sources', 'boot.wim')));
  const iso = join(work, 'bootonly.iso');
  await makeUdfIso(tree, iso);
  const code = await assertFailsCleanly(
    ['media', 'info', iso],
    work,
    /has no sources\/install\.wim or sources\/install\.esd/,
  );
  assert.equal(code, 3);
});

test('bad input: an ISO 9660 image without UDF is not Windows media', async () => {
  const work = await mkdtemp(join(dir, 'iso9660-'));
  const tree = join(work, 'tree');
  await mkdir(join(tree, 'sources'), { recursive: true });
  await writeFile(join(tree, 'sources', 'install.wim'), 'x');
  const iso = join(work, 'iso9660.iso');
  await runProgram('genisoimage', ['-quiet', '-iso-level', '3', '-o', iso, tree]);
  const code = await assertFailsCleanly(
    ['media', 'info', iso],
    work,
    /no UDF file system.* — Windows installation media are UDF/,
  );
  assert.equal(code, 4);
});

test('bad input: a damaged install.wim is named in the error', async () => {
  const work = await mkdtemp(join(dir, 'damaged-'));
  const tree = join(work, 'tree');
  await mkdir(join(tree, 'sources'), { recursive: true });
  await writeFile(join(tree, 'sources', 'install.wim'), 'MSWIM\0\0\0 but nothing else');
  const iso = join(work, 'damaged.iso');
  await makeUdfIso(tree, iso);
  await assertFailsCleanly(['media', 'info', iso], work, /damaged\.iso:\/sources\/install\.wim: /);
});
