// The `winsmith reg` commands against hivex (libhivex-bin, libwin-hivex-perl): what we export is what
// hivexregedit exports, what we write hivexregedit and hivexget read back, and bad input fails on one
// line without touching the hive.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { runCli } from '../../src/cli/run-cli.ts';
import { runProgram } from '../../src/engines/run.ts';
import {
  bytesToHex,
  regJsonValueBytes,
  regTypeNumber,
  type RegJsonKey,
} from '../../src/formats/regf/reg-json.ts';
import { parseRegText, type RegText } from '../../src/formats/regf/reg-text.ts';
import { withTempDir } from '../../src/io/output.ts';
import { isCleanFailure, runWinsmith, type CliRun } from '../helpers/cli.ts';
import { realFixture } from '../helpers/fixtures.ts';

/** A hive's content as one set: 'K path' for each key, 'V path\tname' → 'type:hex' for each value. */
type Flat = Map<string, string>;

function flatOfRegText(reg: RegText): Flat {
  const flat: Flat = new Map();
  for (const section of reg.sections) {
    if (section.kind !== 'key') assert.fail(`an export has a key deletion: ${section.path}`);
    flat.set(`K ${section.path}`, '');
    for (const v of section.values) {
      if (v.kind !== 'set') assert.fail(`an export has a value deletion: ${section.path} ${v.name}`);
      flat.set(`V ${section.path}\t${v.name}`, `${v.type}:${bytesToHex(v.data)}`);
    }
  }
  return flat;
}

function flatOfJson(keys: readonly RegJsonKey[]): Flat {
  const flat: Flat = new Map();
  for (const key of keys) {
    flat.set(`K ${key.path}`, '');
    for (const v of key.values) {
      flat.set(
        `V ${key.path}\t${v.name}`,
        `${regTypeNumber(v.type) ?? -1}:${bytesToHex(regJsonValueBytes(v))}`,
      );
    }
  }
  return flat;
}

async function hivexFlat(hive: string): Promise<Flat> {
  const { stdout } = await runProgram('hivexregedit', ['--export', hive, '\\']);
  return flatOfRegText(parseRegText(new Uint8Array(stdout)));
}

function sink(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
}

/**
 * Runs a command line through the runCli that main.ts calls, in this process: the same output and
 * exit code as a child process, without a Node start-up each time (real processes are used below
 * where the fixtures are exported and where a dirty hive is refused).
 */
async function winsmith(args: readonly string[]): Promise<CliRun> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const code = await runCli(args, { stdout: sink(out), stderr: sink(err) as unknown as NodeJS.WriteStream });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

async function ok(args: readonly string[], run = winsmith): Promise<CliRun> {
  const result = await run(args);
  assert.equal(result.code, 0, `winsmith ${args.join(' ')}: ${result.stderr}`);
  return result;
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

function utf16leWithBom(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    out[2 + 2 * i] = text.charCodeAt(i) & 0xff;
    out[3 + 2 * i] = text.charCodeAt(i) >>> 8;
  }
  return out;
}

function u16hex(s: string): string {
  return bytesToHex(utf16leWithBom(s).subarray(2));
}

const REAL_HIVES = ['hives/NTUSER.DAT', 'hives/SAM', 'hives/UsrClass.dat', 'bcd/uefi-bcdboot.BCD'];
/**
 * The hives hivexregedit --merge reads our .reg of. Not UsrClass.dat: the Perl merge takes some 20 s
 * on its 7,500 keys. Not SAM: it has REG_SZ data such as 20 02 00 00 (not text, but valid UTF-16:
 * "\u0220"), written in UTF-8 as two bytes that hivexregedit reads as two Latin-1 characters.
 */
const MERGED_BY_HIVEX = new Set(['hives/NTUSER.DAT', 'bcd/uefi-bcdboot.BCD']);

for (const name of REAL_HIVES) {
  const fixture = realFixture(name);
  test(
    `${name}: reg export (JSON and text) equals hivexregedit --export; each reads the other's .reg`,
    { skip: fixture.skip },
    async () => {
      const hivexText = (await runProgram('hivexregedit', ['--export', fixture.path, '\\'])).stdout;
      const expected = flatOfRegText(parseRegText(new Uint8Array(hivexText)));
      const json = await ok(['reg', 'export', fixture.path, '--json'], runWinsmith);
      assert.deepEqual(flatOfJson(JSON.parse(json.stdout) as RegJsonKey[]), expected);
      const text = await ok(['reg', 'export', fixture.path]);
      assert.deepEqual(flatOfRegText(parseRegText(text.stdout)), expected);

      await withTempDir(async (dir) => {
        // hivexregedit's .reg imported by us into a new hive of ours, which hivexregedit reads back.
        const theirs = join(dir, 'hivex.reg');
        await writeFile(theirs, hivexText);
        const imported = join(dir, 'imported.hive');
        await ok(['reg', 'new', imported]);
        await ok(['reg', 'import', imported, theirs]);
        assert.deepEqual(await hivexFlat(imported), expected);
        if (!MERGED_BY_HIVEX.has(name)) return;
        // Our .reg (UTF-8) merged by hivexregedit.
        const ours = join(dir, 'ours.reg');
        await ok(['reg', 'export', fixture.path, '--output', ours, '--encoding', 'utf-8']);
        const merged = join(dir, 'merged.hive');
        await ok(['reg', 'new', merged]);
        await runProgram('hivexregedit', ['--merge', merged, ours]);
        assert.deepEqual(await hivexFlat(merged), expected);
      });
    },
  );
}

const ntuser = realFixture('hives/NTUSER.DAT');

test(
  'NTUSER.DAT is clean; a copy left dirty beside its .LOG is refused, and read with --replay-logs',
  { skip: ntuser.skip },
  async () => {
    const original = await readFile(ntuser.path);
    const view = new DataView(original.buffer, original.byteOffset, original.byteLength);
    // The real hive: primary and secondary sequence numbers equal, so its log is not needed.
    assert.equal(view.getUint32(4, true), view.getUint32(8, true));
    await withTempDir(async (dir) => {
      // A write that did not finish: the secondary sequence number one behind, checksum still valid.
      const dirty = new Uint8Array(original);
      const dv = new DataView(dirty.buffer, 0, dirty.byteLength);
      dv.setUint32(8, dv.getUint32(4, true) - 1, true);
      let sum = 0;
      for (let i = 0; i < 508; i += 4) sum = (sum ^ dv.getUint32(i, true)) >>> 0;
      dv.setUint32(508, sum, true);
      const hive = join(dir, 'NTUSER.DAT');
      await writeFile(hive, dirty);
      await copyFile(`${ntuser.path}.LOG`, join(dir, 'NTUSER.DAT.LOG'));
      const before = await sha256(hive);

      for (const args of [
        ['reg', 'export', hive],
        ['reg', 'set', hive, '\\Software\\Test', 'x', '--type', 'REG_DWORD', '--data', '1'],
      ]) {
        const run = await runWinsmith(args);
        assert.ok(isCleanFailure(run), run.stderr);
        assert.equal(run.code, 4);
        assert.match(run.stderr, /dirty.*--replay-logs/);
        assert.equal(await sha256(hive), before);
      }

      const clean = await hivexFlat(ntuser.path);
      const replayed = await ok(['reg', 'export', hive, '--json', '--replay-logs']);
      assert.deepEqual(flatOfJson(JSON.parse(replayed.stdout) as RegJsonKey[]), clean);

      // Written back clean: hivex reads it without the logs, with the one change.
      await ok([
        'reg',
        'set',
        hive,
        '\\Software\\Test',
        'x',
        '--type',
        'REG_DWORD',
        '--data',
        '1',
        '--replay-logs',
      ]);
      const after = await hivexFlat(hive);
      const expected = new Map(clean);
      expected.set('K \\Software\\Test', '');
      expected.set('V \\Software\\Test\tx', '4:01000000');
      assert.deepEqual(after, expected);
    });
  },
);

const bcd = realFixture('bcd/uefi-bcdboot.BCD');
const GUID = '{347518e0-f3cc-11ea-911e-c7eaa7d84b6c}';

test(
  'reg import of a UTF-16LE regedit file and of a UTF-8 file: hivexregedit shows exactly the changes',
  { skip: bcd.skip },
  async () => {
    await withTempDir(async (dir) => {
      const hive = join(dir, 'BCD');
      await writeFile(hive, await readFile(bcd.path));
      const before = await hivexFlat(hive);
      assert.ok(before.has(`K \\Objects\\${GUID}\\Elements\\12000004`));

      // As regedit writes it: UTF-16LE with a BOM, CRLF, full key paths, long hex wrapped with "\".
      const wide = [
        'Windows Registry Editor Version 5.00',
        '',
        `[HKEY_LOCAL_MACHINE\\BCD00000000\\Objects\\${GUID}\\Elements\\12000004]`,
        '"Element"="Resume from \\"Hibernate\\""',
        '',
        `[-HKEY_LOCAL_MACHINE\\BCD00000000\\Objects\\${GUID}\\Elements\\16000009]`,
        '',
        '[HKEY_LOCAL_MACHINE\\BCD00000000\\Winsmith\\Types]',
        '@="default"',
        '"Expand"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,\\',
        '  25,00,00,00',
        '"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00',
        '"Dword"=dword:0000ffff',
        '"Qword"=hex(b):01,00,00,00,00,00,00,80',
        '"None"=hex(0):',
        '"Odd"=hex(100000):de,ad',
        '"Binary"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,\\',
        '  17,18,19,1a,1b,1c,1d,1e,1f',
        '',
        '',
      ].join('\r\n');
      const widePath = join(dir, 'changes.reg');
      await writeFile(widePath, utf16leWithBom(wide));
      const run = await ok([
        'reg',
        'import',
        hive,
        widePath,
        '--prefix',
        'HKEY_LOCAL_MACHINE\\BCD00000000',
        '--json',
      ]);
      assert.deepEqual(JSON.parse(run.stdout), {
        hive,
        keysCreated: 1,
        keysDeleted: 1,
        valuesSet: 9,
        valuesDeleted: 0,
      });

      // UTF-8, root-relative paths as hivexregedit writes them, a value deleted.
      const narrowPath = join(dir, 'more.reg');
      await writeFile(
        narrowPath,
        'Windows Registry Editor Version 5.00\n\n[\\Description]\n"System"=-\n"Ünïcode"="ü"\n',
      );
      await ok(['reg', 'import', hive, narrowPath]);

      const expected = new Map(before);
      const el = `\\Objects\\${GUID}\\Elements`;
      expected.set(`V ${el}\\12000004\tElement`, `1:${u16hex('Resume from "Hibernate"\0')}`);
      expected.delete(`K ${el}\\16000009`);
      expected.delete(`V ${el}\\16000009\tElement`);
      expected.set('K \\Winsmith', '');
      expected.set('K \\Winsmith\\Types', '');
      const t = 'V \\Winsmith\\Types\t';
      expected.set(t, `1:${u16hex('default\0')}`);
      expected.set(`${t}Expand`, `2:${u16hex('%SystemRoot%\0')}`);
      expected.set(`${t}Multi`, `7:${u16hex('a\0b\0\0')}`);
      expected.set(`${t}Dword`, '4:ffff0000');
      expected.set(`${t}Qword`, '11:0100000000000080');
      expected.set(`${t}None`, '0:');
      expected.set(`${t}Odd`, '1048576:dead');
      expected.set(`${t}Binary`, `3:${bytesToHex(Uint8Array.from({ length: 32 }, (_, i) => i))}`);
      expected.delete('V \\Description\tSystem');
      expected.set('V \\Description\tÜnïcode', `1:${u16hex('ü\0')}`);
      assert.deepEqual(await hivexFlat(hive), expected);
    });
  },
);

test('reg new + reg set of every type: hivexget and hivexregedit read each back', async () => {
  await withTempDir(async (dir) => {
    const hive = join(dir, 'new.hive');
    await ok(['reg', 'new', hive, '--root', 'NewStoreRoot']);
    const key = '\\Software\\Contoso';
    const sets: [string, string, string[], string | undefined, string][] = [
      [
        'Sz',
        'REG_SZ',
        ['C:\\Program Files\\"x"'],
        'C:\\Program Files\\"x"',
        `1:${u16hex('C:\\Program Files\\"x"\0')}`,
      ],
      ['Expand', 'REG_EXPAND_SZ', ['%SystemRoot%\\x'], '%SystemRoot%\\x', `2:${u16hex('%SystemRoot%\\x\0')}`],
      ['Multi', 'REG_MULTI_SZ', ['a', 'b c'], 'a\nb c\n', `7:${u16hex('a\0b c\0\0')}`],
      ['MultiJson', 'REG_MULTI_SZ', ['["x","y"]'], 'x\ny\n', `7:${u16hex('x\0y\0\0')}`],
      ['Dword', 'REG_DWORD', ['0x10'], '16', '4:10000000'],
      // hivexget prints a DWORD as a signed 32-bit number.
      ['DwordDec', 'REG_DWORD', ['4294967295'], '-1', '4:ffffffff'],
      ['Qword', 'REG_QWORD', ['4294967296'], '4294967296', '11:0000000001000000'],
      ['Binary', 'REG_BINARY', ['de,ad,be,ef'], undefined, '3:deadbeef'],
      ['', 'REG_NONE', [], undefined, '0:'],
    ];
    for (const [name, type, data] of sets) {
      await ok(['reg', 'set', hive, key, name, '--type', type, ...data.flatMap((d) => ['--data', d])]);
    }
    for (const [name, , , shown] of sets) {
      if (shown === undefined) continue;
      const { stdout } = await runProgram('hivexget', [hive, key, name]);
      assert.equal(stdout.toString('utf8').trimEnd(), shown.trimEnd(), name);
    }
    const expected: Flat = new Map([
      ['K \\', ''],
      ['K \\Software', ''],
      [`K ${key}`, ''],
    ]);
    for (const [name, , , , bytes] of sets) expected.set(`V ${key}\t${name}`, bytes);
    assert.deepEqual(await hivexFlat(hive), expected);

    const get = await ok(['reg', 'get', hive, key, 'Multi', '--json']);
    assert.deepEqual(JSON.parse(get.stdout), { name: 'Multi', type: 'REG_MULTI_SZ', data: ['a', 'b c'] });
    await ok(['reg', 'delete', hive, key, 'Binary']);
    await ok(['reg', 'delete', hive, '\\Software']);
    assert.deepEqual(await hivexFlat(hive), new Map([['K \\', '']]));
  });
});

test('bad input: one clean error line, a non-zero exit, the hive unchanged', async () => {
  await withTempDir(async (dir) => {
    const hive = join(dir, 'h.hive');
    await ok(['reg', 'new', hive]);
    await ok(['reg', 'set', hive, '\\K', 'v', '--type', 'REG_SZ', '--data', 'x']);
    const before = await sha256(hive);
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'this is not a hive\n'.repeat(400));
    const badReg = join(dir, 'bad.reg');
    await writeFile(badReg, 'Windows Registry Editor Version 5.00\r\n\r\n[\\K]\r\n"a"=hex:01,0g\r\n');
    const outside = join(dir, 'outside.reg');
    await writeFile(
      outside,
      'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\K]\r\n"a"=dword:1\r\n',
    );
    const cases: [readonly string[], RegExp][] = [
      [['reg', 'get', join(dir, 'missing.hive'), '\\'], /missing\.hive does not exist/],
      [['reg', 'export', text], /notes\.txt is not a usable registry hive/],
      [
        ['reg', 'set', text, '\\K', 'v', '--type', 'REG_SZ', '--data', 'y'],
        /notes\.txt is not a usable registry hive/,
      ],
      [['reg', 'import', hive, badReg], /bad\.reg: line 4, column 12: expected a hex byte/],
      [
        ['reg', 'import', hive, outside, '--prefix', 'HKEY_LOCAL_MACHINE\\SOFTWARE'],
        /line 3, column 2: key .* is outside the prefix/,
      ],
      [['reg', 'import', hive, outside], /line 3, column 2: expected a key path relative to the hive root/],
      [['reg', 'set', hive, '\\K', 'v', '--type', 'REG_FOO', '--data', '1'], /unknown value type 'REG_FOO'/],
      [
        ['reg', 'set', hive, '\\K', 'v', '--type', 'REG_DWORD', '--data', '4294967296'],
        /--data for REG_DWORD/,
      ],
      [['reg', 'set', hive, '\\K', 'v', '--type', 'REG_BINARY', '--data', 'xyz'], /--data for REG_BINARY/],
      [['reg', 'get', hive, '\\Nope'], /key \\Nope does not exist/],
      [['reg', 'delete', hive, '\\K', 'nope'], /has no value 'nope'/],
      [['reg', 'delete', hive, '\\'], /root key of a hive cannot be deleted/],
      [['reg', 'new', hive], /already exists/],
    ];
    for (const [args, pattern] of cases) {
      const run = await winsmith(args);
      assert.ok(isCleanFailure(run), `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, pattern, args.join(' '));
      assert.equal(await sha256(hive), before, args.join(' '));
    }
  });
});
