// `image info` and `image files` against WIMs made by wimlib-imagex: every figure must equal what
// wiminfo, wiminfo --header, wiminfo --xml and wimdir print.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wimInfoXml } from '../../src/engines/wimlib.ts';
import { parseWimHeader } from '../../src/formats/wim/wim-header.ts';
import { runWinsmith } from '../helpers/cli.ts';
import { describeTree, makeSampleWims, wimlib, type SampleWims } from './wim-fixtures.ts';

describe('image info and image files against wimlib-imagex', { concurrency: 4 }, () => {
  let dir = '';
  let wims: SampleWims;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'winsmith-image-info-'));
    wims = await makeSampleWims(dir);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** `Key: value` (wiminfo) or `Key = value` (wiminfo --header) lines of one block. */
  function fields(block: string): Map<string, string> {
    const map = new Map<string, string>();
    for (const line of block.split('\n')) {
      const m = /^(?<key>[A-Za-z][A-Za-z _]*?)\s*[:=]\s?(?<value>.*)$/.exec(line.trim());
      if (m?.groups !== undefined) map.set(m.groups.key ?? '', (m.groups.value ?? '').trim());
    }
    return map;
  }

  function get(map: Map<string, string>, key: string): string {
    const value = map.get(key);
    assert.ok(value !== undefined, `wiminfo printed no ${key}`);
    return value;
  }

  const ARCH: Readonly<Record<string, string>> = { x86_64: 'amd64', x86: 'x86', ARM64: 'arm64' };

  /** What `image info --json` must print, built from wimlib-imagex's own output only. */
  async function expectedInfo(path: string): Promise<unknown> {
    const plain = await wimlib(['info', path]);
    // wiminfo prints "Architecture: x86" for a <WINDOWS> without <ARCH>; the XML says it is absent.
    const xmlImages = Buffer.from(await wimInfoXml(path))
      .toString('utf16le')
      .split('<IMAGE ')
      .slice(1);
    const header = fields(await wimlib(['info', path, '--header']));
    const [wimPart = '', imagesPart = ''] = plain.split('Available Images:');
    const wim = fields(wimPart);
    const imageBlocks = imagesPart.split(/\n(?=Index:)/).filter((b) => /Index:/.test(b));
    assert.equal(imageBlocks.length, Number(get(wim, 'Image Count')));
    const version = Number(get(header, 'Version'));
    return {
      guid: get(header, 'GUID'),
      compression: get(wim, 'Compression') === 'None' ? 'none' : get(wim, 'Compression'),
      chunkSize: Number(get(header, 'Chunk Size')),
      solid: version === 0xe00,
      parts: Number(get(header, 'Total Parts')),
      bootIndex: Number(get(header, 'Boot Index')),
      images: imageBlocks.map((block, i) => {
        const f = fields(block);
        const hasArch = xmlImages[i]?.includes('<ARCH>') === true;
        const major = f.get('Major Version');
        return {
          index: Number(get(f, 'Index')),
          name: get(f, 'Name') || null,
          description: get(f, 'Description') || null,
          editionId: f.get('Edition ID') ?? null,
          installationType: f.get('Installation Type') ?? null,
          build:
            major === undefined
              ? null
              : `${major}.${get(f, 'Minor Version')}.${get(f, 'Build')}.${f.get('Service Pack Build') ?? '0'}`,
          arch: hasArch ? (ARCH[f.get('Architecture') ?? ''] ?? null) : null,
          languages: (f.get('Languages') ?? '').split(/\s+/).filter((l) => l !== ''),
          totalBytes: Number(get(f, 'Total Bytes')),
          fileCount: Number(get(f, 'File Count')),
          dirCount: Number(get(f, 'Directory Count')),
        };
      }),
    };
  }

  async function infoJson(path: string): Promise<unknown> {
    const run = await runWinsmith(['image', 'info', path, '--json']);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as unknown;
  }

  for (const kind of ['xpress', 'lzx', 'solid', 'none', 'split', 'multi', 'windows', 'pipable'] as const) {
    test(`image info --json of the ${kind} WIM equals what wiminfo prints`, async () => {
      const path = wims[kind];
      const actual = await infoJson(path);
      assert.deepEqual(actual, await expectedInfo(path));
      // The XML resource the header points at is the one wiminfo --xml prints.
      const bytes = await readFile(path);
      // (A pipable WIM's tables are in the final header copy, at the end of the file.)
      const headerAt = kind === 'pipable' ? bytes.length - 208 : 0;
      const xml = parseWimHeader(bytes.subarray(headerAt)).xmlData;
      const fromTool = await wimInfoXml(path);
      assert.deepEqual(
        Buffer.from(bytes.subarray(xml.offsetInWim, xml.offsetInWim + xml.sizeInWim)),
        Buffer.from(fromTool),
      );
    });
  }

  test('the figures the test WIMs were made to have are there', async () => {
    const split = (await infoJson(wims.split)) as { parts: number };
    assert.ok(split.parts >= 2, `split WIM has ${split.parts} parts`);
    const solid = (await infoJson(wims.solid)) as { solid: boolean; compression: string };
    assert.deepEqual([solid.solid, solid.compression], [true, 'LZMS']);
    const multi = (await infoJson(wims.multi)) as { bootIndex: number; images: { arch: string | null }[] };
    assert.equal(multi.bootIndex, 3);
    assert.deepEqual(
      multi.images.map((i) => i.arch),
      [null, 'arm64', 'x86'],
    );
    const windows = (await infoJson(wims.windows)) as { images: Record<string, unknown>[] };
    assert.deepEqual(windows.images[0], {
      index: 1,
      name: 'Windows Server 2022 SERVERDATACENTER',
      description: 'Desktop',
      editionId: 'ServerDatacenter',
      installationType: 'Server',
      build: '10.0.20348.587',
      arch: 'amd64',
      languages: ['en-US', 'de-DE'],
      totalBytes: windows.images[0]?.totalBytes,
      fileCount: 6,
      dirCount: 5,
    });
  });

  async function filesJson(
    args: readonly string[],
  ): Promise<{ path: string; size: number; isDir: boolean; sha1: string | null }[]> {
    const run = await runWinsmith(['image', 'files', ...args, '--json']);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as { path: string; size: number; isDir: boolean; sha1: string | null }[];
  }

  for (const kind of ['xpress', 'lzx', 'solid', 'none', 'split', 'windows', 'pipable'] as const) {
    test(`image files --json of the ${kind} WIM lists what wimdir lists, with the tree's sizes and SHA-1s`, async () => {
      const entries = await filesJson([wims[kind]]);
      const wimdirPaths = (await wimlib(['dir', wims[kind], '1'])).split('\n').filter((l) => l !== '');
      assert.deepEqual(
        entries.map((e) => e.path),
        wimdirPaths,
      );
      assert.deepEqual(
        [...entries].sort((a, b) => a.path.localeCompare(b.path)),
        await describeTree(wims.tree),
      );
    });
  }

  test('image files under a path lists that subtree as wimdir --path does', async () => {
    const entries = await filesJson([`${wims.multi}:3`, '/Windows/System32']);
    const wimdirPaths = (await wimlib(['dir', wims.multi, '3', '--path=/Windows/System32']))
      .split('\n')
      .filter((l) => l !== '');
    assert.deepEqual(
      entries.map((e) => e.path),
      wimdirPaths,
    );
    assert.ok(entries.some((e) => e.path === '/Windows/System32/notes with spaces.ini' && e.size === 2800));
  });

  test('image files picks the image named by :INDEX', async () => {
    const second = await filesJson([`${wims.multi}:2`]);
    assert.ok(
      second.some((e) => e.path === '/Grüße aus Zürich – ünïcode.txt'),
      'image 2 is the Windows folder',
    );
    assert.ok(!second.some((e) => e.path === '/hello.txt'));
  });
});
