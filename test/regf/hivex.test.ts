// Two-way checks of the regf library against hivex (Debian libhivex-bin, libwin-hivex-perl):
// real Windows hives read by us equal hivexregedit's export of them; hives we write are read by
// hivexregedit and hivexsh as we meant them; hives hivex writes into are read by us the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTempDir } from '../../src/io/output.ts';
import { runProgram } from '../../src/engines/run.ts';
import { AppError } from '../../src/core/errors.ts';
import { Hive, REG_TYPES, encodeRegData, type HiveKey } from '../../src/formats/regf/index.ts';
import { BB, baseBlockChecksum, writeU32 } from '../../src/formats/regf/layout.ts';
import { realFixture } from '../helpers/fixtures.ts';
import { dumpKey, exportWithHivex, firstDifference, type Dump, type DumpValue } from './hivex-dump.ts';

/** Each key's class name and last written time, by path. */
function keyMeta(root: HiveKey): string[] {
  const out: string[] = [];
  const walk = (key: HiveKey): void => {
    out.push(`${key.path} ${key.lastWritten} ${JSON.stringify(key.className ?? null)}`);
    key.subkeys().forEach(walk);
  };
  walk(root);
  return out;
}

const REAL_HIVES = ['hives/NTUSER.DAT', 'hives/SAM', 'hives/UsrClass.dat', 'bcd/uefi-bcdboot.BCD'];

for (const name of REAL_HIVES) {
  const fixture = realFixture(name);
  test(
    `${name}: what we read equals hivexregedit --export, and hivex reads our rewrite the same`,
    { skip: fixture.skip },
    async () => {
      const bytes = new Uint8Array(await readFile(fixture.path));
      const hive = Hive.parse(bytes);
      const theirs = await exportWithHivex(fixture.path);
      const ours = dumpKey(hive.root);
      assert.ok(theirs.size > 10, `hivex exported ${theirs.size} keys`);
      assert.equal(firstDifference(ours, theirs), undefined);

      await withTempDir(async (dir) => {
        const rewritten = join(dir, 'rewritten');
        const out = hive.serialize();
        await writeFile(rewritten, out);
        assert.equal(firstDifference(ours, await exportWithHivex(rewritten)), undefined);
        // What hivex does not show survives the rewrite too: class names and last written times.
        assert.deepEqual(keyMeta(Hive.parse(out).root), keyMeta(hive.root));
      });
    },
  );
}

const ntuser = realFixture('hives/NTUSER.DAT');
const ntuserLog = realFixture('hives/NTUSER.DAT.LOG');

test(
  'NTUSER.DAT made dirty is refused, then replayed from its real .LOG (new format, HvLE)',
  { skip: ntuser.skip || ntuserLog.skip },
  async () => {
    // The real hive is clean (sequence numbers 0x84/0x84) and its .LOG holds the entry of sequence
    // 0x83, already applied. Rolling the secondary sequence number back to 0x83 gives the state of a
    // crash during that write: the entry must be replayed, giving the same keys and values.
    const clean = new Uint8Array(await readFile(ntuser.path));
    const log = new Uint8Array(await readFile(ntuserLog.path));
    const dirty = clean.slice();
    writeU32(dirty, BB.secondarySeq, 0x83);
    writeU32(dirty, BB.checksum, baseBlockChecksum(dirty));
    assert.throws(
      () => Hive.parse(dirty, { logs: [log] }),
      (e: unknown) => e instanceof AppError && e.code === 'HIVE_DIRTY' && e.message.includes('--replay-logs'),
    );
    assert.throws(
      () => Hive.parse(dirty),
      (e: unknown) =>
        e instanceof AppError && e.code === 'HIVE_DIRTY' && e.message.includes('no transaction logs'),
    );
    const replayed = Hive.parse(dirty, { logs: [log], replayLogs: true });
    assert.equal(firstDifference(dumpKey(replayed.root), dumpKey(Hive.parse(clean).root)), undefined);
  },
);

function sampleHive(): { hive: Hive; expected: Dump } {
  const hive = Hive.create('ROOT', { clock: () => 133_000_000_000_000_000n });
  const k = hive.ensureKey('Software\\Winsmith\\Test');
  const put = (name: string, type: number, data: Uint8Array): void => k.setValue(name, type, data);
  put('', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'default value'));
  put('sz', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'hello'));
  put('expand', REG_TYPES.REG_EXPAND_SZ, encodeRegData(REG_TYPES.REG_EXPAND_SZ, '%SystemRoot%\\x'));
  put('bin', REG_TYPES.REG_BINARY, new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
  put('dword', REG_TYPES.REG_DWORD, encodeRegData(REG_TYPES.REG_DWORD, 0xdeadbeef));
  put('dwordbe', REG_TYPES.REG_DWORD_BIG_ENDIAN, encodeRegData(REG_TYPES.REG_DWORD_BIG_ENDIAN, 7));
  put('link', REG_TYPES.REG_LINK, encodeRegData(REG_TYPES.REG_LINK, '\\Registry\\Machine\\X'));
  put('multi', REG_TYPES.REG_MULTI_SZ, encodeRegData(REG_TYPES.REG_MULTI_SZ, ['a', 'b c']));
  put('qword', REG_TYPES.REG_QWORD, encodeRegData(REG_TYPES.REG_QWORD, 2n ** 63n + 5n));
  put('none', REG_TYPES.REG_NONE, new Uint8Array(0));
  put('unknown', 0x20000, new Uint8Array([9, 9]));
  put(
    'big',
    REG_TYPES.REG_BINARY,
    new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff),
  );
  put('exactly16344', REG_TYPES.REG_BINARY, new Uint8Array(16_344).fill(0xab));
  // Big data whose last segment is 1 or 2 bytes: hivex reads a segment as its cell size minus 8.
  put('segment+1', REG_TYPES.REG_BINARY, new Uint8Array(16_345).fill(0xcd));
  put('2segments+2', REG_TYPES.REG_BINARY, new Uint8Array(32_690).fill(0xef));
  put('q"uo\\te', REG_TYPES.REG_DWORD, encodeRegData(REG_TYPES.REG_DWORD, 1));
  put('Ωmega', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'wide name'));
  hive.ensureKey('Software\\Über');
  hive.ensureKey('Software\\Ωmega');
  for (let i = 0; i < 1200; i++) hive.ensureKey(`Many\\k${i}`);
  return { hive, expected: dumpKey(hive.root) };
}

test('hives we write are read by hivexregedit as we meant them', async () => {
  const { hive, expected } = sampleHive();
  await withTempDir(async (dir) => {
    const path = join(dir, 'ours.hive');
    await writeFile(path, hive.serialize());
    assert.equal(firstDifference(expected, await exportWithHivex(path)), undefined);
  });
});

test('hives we write are read by hivexsh; hivexsh edits them and we read its edits', async () => {
  const { hive } = sampleHive();
  await withTempDir(async (dir) => {
    const path = join(dir, 'ours.hive');
    await writeFile(path, hive.serialize());
    const script = [
      'cd \\Software\\Winsmith\\Test',
      'lsval dword',
      'lsval sz',
      'cd \\Software',
      'ls',
      'cd \\Many',
      'ls',
    ].join('\n');
    const { stdout } = await runProgram('hivexsh', [path], { input: `${script}\n` });
    const lines = stdout.toString('utf8').split('\n');
    assert.equal(lines[0], '-559038737', 'hivexsh prints a DWORD as a signed 32-bit number: 0xdeadbeef');
    assert.equal(lines[1], 'hello');
    assert.deepEqual(
      lines.slice(2, 5),
      ['Winsmith', 'Ωmega', 'Über'].sort((a, b) => (a.toUpperCase() < b.toUpperCase() ? -1 : 1)),
    );
    assert.equal(lines.filter((l) => /^k\d+$/.test(l)).length, 1200);

    const edit = [
      'cd \\Software\\Winsmith',
      'add Added',
      'cd Added',
      'setval 2',
      'fromhivex',
      'string:set by hivex',
      'count',
      'dword:0x2a',
      'cd \\Many',
      'del',
      'commit',
    ].join('\n');
    await runProgram('hivexsh', ['-w', path], { input: `${edit}\n` });
    const back = Hive.parse(new Uint8Array(await readFile(path)));
    const added = back.getKey('Software\\Winsmith\\Added');
    assert.ok(added);
    assert.equal(added.value('count')?.type, REG_TYPES.REG_DWORD);
    assert.deepEqual([...(added.value('count')?.data ?? [])], [0x2a, 0, 0, 0]);
    assert.equal(back.getKey('Many'), undefined);
    assert.equal(firstDifference(dumpKey(back.root), await exportWithHivex(path)), undefined);
  });
});

test('hives hivexregedit --merge writes into are read by us the same as hivex reads them', async () => {
  const lines = ['Windows Registry Editor Version 5.00', ''];
  const expected: Dump = new Map([['\\', new Map<string, DumpValue>()]]);
  for (let i = 0; i < 40; i++) {
    const parent = `\\K${i % 5}`;
    if (!expected.has(parent)) {
      lines.push(`[${parent}]`, '');
      expected.set(parent, new Map());
    }
    const path = `${parent}\\Sub${i}`;
    const values = new Map<string, DumpValue>();
    lines.push(`[${path}]`);
    const data = Buffer.alloc(i * 997 + 1, i);
    lines.push(`"bin"=hex(3):${[...data].map((b) => b.toString(16).padStart(2, '0')).join(',')}`);
    values.set('bin', { type: 3, hex: data.toString('hex') });
    lines.push(`"dw"=dword:${(i * 1000).toString(16).padStart(8, '0')}`);
    values.set('dw', { type: 4, hex: Buffer.from(encodeRegData(4, i * 1000)).toString('hex') });
    lines.push(`@=hex(7):61,00,00,00,62,00,00,00,00,00`);
    values.set('', { type: 7, hex: '610000006200000000' + '00' });
    lines.push('');
    expected.set(path, values);
  }
  await withTempDir(async (dir) => {
    const path = join(dir, 'merged.hive');
    await writeFile(path, Hive.create('ROOT').serialize());
    await writeFile(join(dir, 'in.reg'), lines.join('\n'));
    await runProgram('hivexregedit', ['--merge', path, join(dir, 'in.reg')]);
    const ours = dumpKey(Hive.parse(new Uint8Array(await readFile(path))).root);
    assert.equal(firstDifference(ours, expected), undefined);
    assert.equal(firstDifference(ours, await exportWithHivex(path)), undefined);
  });
});
