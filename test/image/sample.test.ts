// `winsmith sample` end to end: the WIM it makes, read by wimlib (wiminfo, wimextract, wimdir) and
// its hives by hivex (hivexget, hivexregedit), as later stages and other tools will read it.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ProgressEvent } from '../../src/core/progress.ts';
import { makeNtfs, ntfsListDirectory, ntfsReadFile } from '../../src/engines/ntfs.ts';
import { wimApply, wimExtract, wimListFiles } from '../../src/engines/wimlib.ts';
import { runProgram } from '../../src/engines/run.ts';
import { Hive } from '../../src/formats/regf/index.ts';
import { buildSampleImage } from '../../src/image/sample/build-sample.ts';
import { SAMPLE_HIVES } from '../../src/image/sample/hive-data.ts';
import { STAND_IN_MARK } from '../../src/image/sample/layout.ts';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';
import { realFixture } from '../helpers/fixtures.ts';

let dir = '';
let wim = '';
let extracted = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'winsmith-sample-'));
  wim = join(dir, 'sample.wim');
  const run = await runWinsmith(['sample', '-o', wim, '--json']);
  assert.equal(run.code, 0, run.stderr);
  extracted = join(dir, 'x');
  await mkdir(extracted);
  await wimExtract(
    wim,
    1,
    ['/Windows/System32/config', '/Users/Default/NTUSER.DAT', '/Windows/Boot'],
    extracted,
    {
      noAcls: true,
    },
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function wiminfo(path: string): Promise<Map<string, string>> {
  const out = (await runProgram('wimlib-imagex', ['info', path, '1'])).stdout.toString('utf8');
  const fields = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^([A-Za-z ]+):\s+(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) fields.set(m[1], m[2].trim());
  }
  return fields;
}

async function hivexget(hive: string, key: string, value: string): Promise<string> {
  const out = await runProgram('hivexget', [join(extracted, hive), key, value]);
  return out.stdout.toString('utf8').trim();
}

test('wiminfo shows the image as Windows Server 2022 SERVERSTANDARD, filled by wimlib from the hives', async () => {
  const info = await wiminfo(wim);
  assert.equal(info.get('Name'), 'Windows Server 2022 SERVERSTANDARD');
  assert.equal(info.get('Description'), 'Windows Server 2022 SERVERSTANDARD');
  assert.equal(info.get('Display Name'), 'Windows Server 2022 Standard (Desktop Experience)');
  assert.equal(info.get('Architecture'), 'x86_64');
  assert.equal(info.get('Product Name'), 'Windows Server 2022 Standard');
  assert.equal(info.get('Edition ID'), 'ServerStandard');
  assert.equal(info.get('Installation Type'), 'Server');
  assert.equal(info.get('Product Type'), 'ServerNT');
  assert.equal(info.get('HAL'), 'acpiapic');
  assert.equal(info.get('Languages'), 'en-US');
  assert.equal(info.get('Default Language'), 'en-US');
  assert.equal(info.get('System Root'), 'WINDOWS');
  assert.equal(info.get('Major Version'), '10');
  assert.equal(info.get('Minor Version'), '0');
  assert.equal(info.get('Build'), '20348');
  assert.equal(info.get('Service Pack Build'), '169');
  assert.equal(info.get('Flags'), 'ServerStandard');
});

test('winsmith image info reads the sample like a Server 2022 image', async () => {
  const run = await runWinsmith(['image', 'info', wim, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout) as { compression: string; images: Record<string, unknown>[] };
  assert.equal(info.compression, 'LZX');
  const image = info.images[0];
  assert.ok(image !== undefined);
  assert.equal(image.editionId, 'ServerStandard');
  assert.equal(image.installationType, 'Server');
  assert.equal(image.arch, 'amd64');
  assert.match(String(image.build), /^10\.0\.20348\.\d+$/);
  assert.deepEqual(image.languages, ['en-US']);
});

test('hivex reads the SYSTEM hive: Select, computer name, services, DriverDatabase', async () => {
  assert.equal(await hivexget('config/SYSTEM', '\\Select', 'Current'), '1');
  assert.equal(await hivexget('config/SYSTEM', '\\Select', 'Failed'), '0');
  assert.equal(
    await hivexget('config/SYSTEM', '\\ControlSet001\\Control\\ComputerName\\ComputerName', 'ComputerName'),
    'MINWINPC',
  );
  assert.equal(
    await hivexget('config/SYSTEM', '\\ControlSet001\\Control\\Terminal Server', 'fDenyTSConnections'),
    '1',
  );
  assert.equal(await hivexget('config/SYSTEM', '\\ControlSet001\\Services\\storahci', 'Start'), '0');
  assert.equal(
    await hivexget('config/SYSTEM', '\\ControlSet001\\Services\\storahci', 'ImagePath'),
    'System32\\drivers\\storahci.sys',
  );
  const db = (
    await runProgram('hivexregedit', ['--export', join(extracted, 'config/SYSTEM'), '\\DriverDatabase'])
  ).stdout.toString('utf8');
  assert.match(db, /\[\\DriverDatabase\\DriverInfFiles\\storahci\.inf\]/);
  assert.match(db, /\[\\DriverDatabase\\DeviceIds\\PCI\\CC_010601\]/);
});

test('hivex reads SOFTWARE, DEFAULT, SAM, SECURITY and the default NTUSER.DAT', async () => {
  const cv = '\\Microsoft\\Windows NT\\CurrentVersion';
  assert.equal(await hivexget('config/SOFTWARE', cv, 'ProductName'), 'Windows Server 2022 Standard');
  assert.equal(await hivexget('config/SOFTWARE', cv, 'EditionID'), 'ServerStandard');
  assert.equal(await hivexget('config/SOFTWARE', cv, 'CurrentBuild'), '20348');
  assert.equal(await hivexget('config/SOFTWARE', cv, 'InstallationType'), 'Server');
  assert.equal(await hivexget('config/SOFTWARE', cv, 'CurrentMajorVersionNumber'), '10');
  assert.equal(
    await hivexget('config/SOFTWARE', '\\Microsoft\\Windows\\CurrentVersion', 'DevicePath'),
    '%SystemRoot%\\inf',
  );
  assert.equal(
    await hivexget('config/SOFTWARE', '\\Microsoft\\Windows\\CurrentVersion\\Setup\\State', 'ImageState'),
    'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE',
  );
  assert.equal(await hivexget('config/DEFAULT', '\\Control Panel\\International', 'LocaleName'), 'en-US');
  assert.equal(await hivexget('NTUSER.DAT', '\\Control Panel\\International', 'LocaleName'), 'en-US');
  const sam = (
    await runProgram('hivexregedit', ['--export', join(extracted, 'config/SAM'), '\\SAM\\Domains\\Account'])
  ).stdout.toString('utf8');
  assert.match(sam, /\[\\SAM\\Domains\\Account\\Users\\Names\\Administrator\]\r?\n@=hex\(1f4\):/);
  const security = (
    await runProgram('hivexregedit', ['--export', join(extracted, 'config/SECURITY'), '\\Policy'])
  ).stdout.toString('utf8');
  assert.match(security, /\[\\Policy\\Secrets\]/);
});

test('hivexregedit reads the BCD-Template: the template store with its inheritable objects', async () => {
  const reg = (
    await runProgram('hivexregedit', ['--export', join(extracted, 'config/BCD-Template'), '\\'])
  ).stdout.toString('utf8');
  assert.match(reg, /\[\\Description\]\r?\n"KeyName"=hex\(1\):42,00,43,00,44,00,30,00/);
  // {bootmgr} and {globalsettings}
  assert.match(
    reg,
    /\[\\Objects\\\{9dea862c-5cdd-4e70-acc1-f32b344d4795\}\\Description\]\r?\n"Type"=dword:10100002/,
  );
  assert.match(
    reg,
    /\[\\Objects\\\{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e\}\\Description\]\r?\n"Type"=dword:20100000/,
  );
});

test('boot files are present and say they are stand-ins', async () => {
  const efi = await readdir(join(extracted, 'Boot', 'EFI'));
  for (const name of ['bootmgfw.efi', 'bootmgr.efi', 'memtest.efi', 'boot.stl', 'en-US']) {
    assert.ok(efi.includes(name), `Boot/EFI/${name}`);
  }
  const pcat = await readdir(join(extracted, 'Boot', 'PCAT'));
  assert.ok(pcat.includes('bootmgr') && pcat.includes('memtest.exe'));
  assert.ok((await readdir(join(extracted, 'Boot', 'Fonts'))).some((f) => f.endsWith('.ttf')));
  for (const file of [
    'EFI/bootmgfw.efi',
    'EFI/en-US/bootmgfw.efi.mui',
    'PCAT/bootmgr',
    'Fonts/wgl4_boot.ttf',
  ]) {
    const text = await readFile(join(extracted, 'Boot', file), 'utf8');
    assert.ok(text.startsWith(STAND_IN_MARK), file);
  }
});

test('--size pads to the size asked for, and the same seed gives the same content', async () => {
  const size = 64 * 1024 * 1024;
  const build = async (file: string, seed: string): Promise<Map<string, string | null>> => {
    const out = join(dir, file);
    const run = await runWinsmith([
      'sample',
      '-o',
      out,
      '--size',
      '64MiB',
      '--seed',
      seed,
      '--compress',
      'none',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const info = await wiminfo(out);
    const total = Number(info.get('Total Bytes'));
    assert.ok(Math.abs(total - size) <= size * 0.02, `total ${total} for ${size}`);
    const files = await wimListFiles(out, 1);
    await rm(out);
    return new Map(files.map((f) => [f.path, f.sha1]));
  };
  const first = await build('a.wim', '7');
  const again = await build('b.wim', '7');
  const other = await build('c.wim', '8');
  assert.ok(first.size > 200, `${first.size} entries`);
  assert.deepEqual(again, first);
  assert.notDeepEqual(other, first);
  assert.ok([...first.keys()].some((p) => p.startsWith('/Windows/WinSxS/Manifests/')));
});

test('an existing output, a bad size or a bad seed fail cleanly and leave nothing behind', async () => {
  const existing = await runWinsmith(['sample', '-o', wim]);
  assert.ok(isCleanFailure(existing), existing.stderr);
  assert.match(existing.stderr, /already exists/);
  for (const args of [
    ['--size', 'lots'],
    ['--size', '1000'],
    ['--seed', '-1'],
    ['--compress', 'zip'],
  ]) {
    const out = join(dir, 'bad.wim');
    const run = await runWinsmith(['sample', '-o', out, ...args]);
    assert.ok(isCleanFailure(run), `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.code, 2);
  }
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.startsWith('.') || n === 'bad.wim'),
    [],
  );
});

test('building reports progress for writing the files and for the capture', async () => {
  const events: ProgressEvent[] = [];
  const out = join(dir, 'progress.wim');
  const result = await buildSampleImage(out, {
    size: 16 * 1024 * 1024,
    compression: 'none',
    onProgress: (e) => events.push(e),
  });
  await rm(out);
  assert.equal(result.totalBytes, 16 * 1024 * 1024);
  const writing = events.filter((e) => e.phase === 'Writing sample files');
  assert.ok(writing.length >= 2, `${writing.length} writing events`);
  const last = writing.at(-1);
  assert.ok(last !== undefined && last.done === last.total && last.total === result.totalBytes);
  for (let i = 1; i < writing.length; i++) assert.ok((writing[i]?.done ?? 0) >= (writing[i - 1]?.done ?? 0));
  assert.ok(
    events.some((e) => e.phase === 'Archiving file data'),
    `phases: ${[...new Set(events.map((e) => e.phase))].join(', ')}`,
  );
});

test('the sample applies to an NTFS volume (no mount), as disk building does', async () => {
  const volume = join(dir, 'ntfs.img');
  await writeFile(volume, '');
  await truncate(volume, 64 * 1024 * 1024);
  await makeNtfs(volume, { label: 'Windows', startSector: 2048 });
  await wimApply(wim, 1, volume);
  const config = await ntfsListDirectory(volume, '/Windows/System32/config');
  assert.ok(config?.includes('SYSTEM') && config.includes('BCD-Template'), String(config));
  const hive = Hive.parse(await ntfsReadFile(volume, '/Windows/System32/config/SYSTEM'));
  assert.ok(hive.getKey('ControlSet001\\Services\\storahci') !== undefined);
  await rm(volume);
});

const realNtuser = realFixture('hives/NTUSER.DAT');
test(
  'the hives root keys are named as in hives Microsoft image tools wrote',
  { skip: realNtuser.skip },
  async () => {
    const real = Hive.parse(new Uint8Array(await readFile(realNtuser.path)));
    for (const spec of Object.values(SAMPLE_HIVES)) assert.equal(spec.rootName, real.root.name);
  },
);
