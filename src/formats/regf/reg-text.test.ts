import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import {
  decodeRegText,
  formatRegText,
  parseRegText,
  serializeRegText,
  type RegText,
  type RegTextSection,
  type RegTextValue,
} from './reg-text.ts';

function u16(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) & 0xff;
    out[2 * i + 1] = s.charCodeAt(i) >>> 8;
  }
  return out;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.split(',').map((h) => Number.parseInt(h, 16)));
}

const FAILURE_ACTIONS =
  '80,51,01,00,00,00,00,00,00,00,00,00,03,00,00,00,14,00,00,00,01,00,00,00,60,ea,00,00,01,00,00,00,60,ea,00,00,00,00,00,00,60,ea,00,00';

test('writes what regedit writes: header, CRLF, strings, dword, hex wrapped at 77 columns', () => {
  const reg: RegText = {
    sections: [
      {
        kind: 'key',
        path: '\\ControlSet001\\Services\\TermService',
        values: [
          {
            kind: 'set',
            name: 'Description',
            type: 1,
            data: u16('@%SystemRoot%\\System32\\termsrv.dll,-267\0'),
          },
          { kind: 'set', name: 'ErrorControl', type: 4, data: hex('01,00,00,00') },
          { kind: 'set', name: 'FailureActions', type: 3, data: hex(FAILURE_ACTIONS) },
          {
            kind: 'set',
            name: 'ImagePath',
            type: 2,
            data: u16('%SystemRoot%\\System32\\svchost.exe -k x\0'),
          },
          { kind: 'set', name: '', type: 0, data: new Uint8Array(0) },
          { kind: 'delete', name: 'Old "one"' },
        ],
      },
      { kind: 'delete-key', path: '\\Gone' },
    ],
  };
  const text = formatRegText(reg, { prefix: 'HKEY_LOCAL_MACHINE\\SYSTEM' });
  assert.equal(
    text,
    [
      'Windows Registry Editor Version 5.00',
      '',
      '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\TermService]',
      '"Description"="@%SystemRoot%\\\\System32\\\\termsrv.dll,-267"',
      '"ErrorControl"=dword:00000001',
      '"FailureActions"=hex:80,51,01,00,00,00,00,00,00,00,00,00,03,00,00,00,14,00,00,\\',
      '  00,01,00,00,00,60,ea,00,00,01,00,00,00,60,ea,00,00,00,00,00,00,60,ea,00,00',
      '"ImagePath"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,\\',
      '  74,00,25,00,5c,00,53,00,79,00,73,00,74,00,65,00,6d,00,33,00,32,00,5c,00,73,\\',
      '  00,76,00,63,00,68,00,6f,00,73,00,74,00,2e,00,65,00,78,00,65,00,20,00,2d,00,\\',
      '  6b,00,20,00,78,00,00,00',
      '@=hex(0):',
      '"Old \\"one\\""=-',
      '',
      '[-HKEY_LOCAL_MACHINE\\SYSTEM\\Gone]',
      '',
      '',
    ].join('\r\n'),
  );
  assert.deepEqual(parseRegText(text, { prefix: 'HKEY_LOCAL_MACHINE\\SYSTEM\\' }), reg);
});

test('UTF-16LE with a BOM by default, UTF-8 on request; both read back', () => {
  const reg: RegText = { sections: [{ kind: 'key', path: '\\', values: [] }] };
  const wide = serializeRegText(reg);
  assert.deepEqual([...wide.subarray(0, 4)], [0xff, 0xfe, 0x57, 0x00]);
  const narrow = serializeRegText(reg, { encoding: 'utf-8' });
  assert.equal(narrow[0], 0x57);
  assert.equal(decodeRegText(wide), decodeRegText(narrow));
  assert.deepEqual(parseRegText(wide), reg);
  assert.deepEqual(parseRegText(narrow), reg);
  const bom8 = new Uint8Array([0xef, 0xbb, 0xbf, ...narrow]);
  assert.deepEqual(parseRegText(bom8), reg);
  assert.throws(() => decodeRegText(new Uint8Array([0xfe, 0xff, 0, 0x57])), /big-endian/);
});

test('reads what hivexregedit writes: root-relative paths, hex(N) of any type, blank lines, comments', () => {
  const text = [
    'Windows Registry Editor Version 5.00',
    '',
    '[\\]',
    '',
    '; a comment',
    '[\\SAM\\Domains]',
    '@=hex(0):',
    '"KeyName"=hex(1):42,00,00,00',
    '"x" = dword:1a',
    '"Names"=hex(3e8):',
    '"Big"=hex(ffffffff):01, 02 ,\\',
    '   03',
    '',
  ].join('\n');
  const reg = parseRegText(text);
  assert.deepEqual(reg, {
    sections: [
      { kind: 'key', path: '\\', values: [] },
      {
        kind: 'key',
        path: '\\SAM\\Domains',
        values: [
          { kind: 'set', name: '', type: 0, data: new Uint8Array(0) },
          { kind: 'set', name: 'KeyName', type: 1, data: hex('42,00,00,00') },
          { kind: 'set', name: 'x', type: 4, data: hex('1a,00,00,00') },
          { kind: 'set', name: 'Names', type: 0x3e8, data: new Uint8Array(0) },
          { kind: 'set', name: 'Big', type: 0xffffffff, data: hex('01,02,03') },
        ],
      },
    ],
  });
  assert.match(formatRegText(reg), /\r\n"KeyName"="B"\r\n/);
  assert.match(formatRegText(reg), /\r\n"Big"=hex\(ffffffff\):01,02,03\r\n/);
});

test('REGEDIT4 files: 8-bit expandable and multi strings are widened to UTF-16LE', () => {
  const text = 'REGEDIT4\r\n\r\n[\\K]\r\n"E"=hex(2):25,41,25,00\r\n"S"="a"\r\n';
  assert.deepEqual(parseRegText(text).sections[0], {
    kind: 'key',
    path: '\\K',
    values: [
      { kind: 'set', name: 'E', type: 2, data: u16('%A%\0') },
      { kind: 'set', name: 'S', type: 1, data: u16('a\0') },
    ],
  });
});

test('key paths: the prefix is stripped case-insensitively; a key outside it names its line', () => {
  const text =
    'Windows Registry Editor Version 5.00\n\n[hkey_local_machine\\software]\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\B]\n[HKEY_CURRENT_USER\\X]\n';
  assert.throws(
    () => parseRegText(text, { prefix: 'HKEY_LOCAL_MACHINE\\SOFTWARE' }),
    (e: unknown) =>
      e instanceof FormatError &&
      /^line 5, column 2: key 'HKEY_CURRENT_USER\\X' is outside the prefix 'HKEY_LOCAL_MACHINE\\SOFTWARE'/.test(
        e.message,
      ),
  );
  const ok = parseRegText(text.replace(/\[HKEY_CURRENT_USER.*\n/, ''), {
    prefix: 'HKEY_LOCAL_MACHINE\\SOFTWARE',
  });
  assert.deepEqual(
    ok.sections.map((s) => s.path),
    ['\\', '\\A\\B'],
  );
  assert.throws(() => parseRegText(text), /line 3, column 2: expected a key path relative to the hive root/);
});

const BAD: readonly (readonly [string, RegExp])[] = [
  ['REGEDIT5\n', /^line 1, column 1: expected 'Windows Registry Editor Version 5\.00' or 'REGEDIT4'/],
  ['Windows Registry Editor Version 5.00\n"a"="b"\n', /^line 2, column 1: expected a '\[key\]' line before/],
  [
    'Windows Registry Editor Version 5.00\n[\\K]\n"a"=dword:123456789\n',
    /^line 3, column 11: expected a DWORD of 1 to 8 hex digits, found '123456789'/,
  ],
  ['Windows Registry Editor Version 5.00\n[\\K]\n"a"=hex:01,zz\n', /^line 3, column 12: expected a hex byte/],
  [
    'Windows Registry Editor Version 5.00\n[\\K]\n"a"=hex:01,\\\n  02 03\n',
    /^line 4, column 6: expected ','/,
  ],
  [
    'Windows Registry Editor Version 5.00\n[\\K]\n"a"=hex:01,\\',
    /^line 3, column 12: expected a continuation/,
  ],
  ['Windows Registry Editor Version 5.00\n[\\K]\n"a"="b\n', /^line 3, column 7: expected a closing '"'/],
  [
    'Windows Registry Editor Version 5.00\n[\\K]\n"a"="C:\\W"\n',
    /^line 3, column 9: expected '\\\\' or '\\"' after a backslash in a quoted string, found 'W"'/,
  ],
  [
    'Windows Registry Editor Version 5.00\n[\\K]\n"a" "b"\n',
    /^line 3, column 5: expected '=' after the value name, found '"b"'/,
  ],
  [
    'Windows Registry Editor Version 5.00\n[\\K]\n"a"=qword:1\n',
    /^line 3, column 5: expected a quoted string, 'dword:'/,
  ],
  [
    'Windows Registry Editor Version 5.00\n[\\K]\n"a"=- x\n',
    /^line 3, column 7: expected the end of the line after '-'/,
  ],
  ['Windows Registry Editor Version 5.00\n[\\K\n', /^line 2, column 4: expected '\]' closing the key path/],
  ['Windows Registry Editor Version 5.00\n[\\K] x\n', /^line 2, column 6: expected the end of the line/],
  [
    'Windows Registry Editor Version 5.00\n[\\K\\\\L]\n',
    /^line 2, column 2: expected key names between single/,
  ],
  ['Windows Registry Editor Version 5.00\n[-\\]\n', /^line 2, column 3: the hive root cannot be deleted/],
  [
    'Windows Registry Editor Version 5.00\n[-\\K]\n"a"=-\n',
    /^line 3, column 1: .*cannot follow a '\[-key\]'/,
  ],
  [
    'Windows Registry Editor Version 5.00\nfoo\n',
    /^line 2, column 1: expected a '\[key\]' line, a value line/,
  ],
];

test('bad input: a FormatError naming the line and column and what was expected', () => {
  for (const [text, pattern] of BAD) {
    assert.throws(
      () => parseRegText(text),
      (e: unknown) => e instanceof FormatError && e.code === 'FORMAT_INVALID' && pattern.test(e.message),
      `${JSON.stringify(text)} should fail with ${String(pattern)}`,
    );
  }
});

test('names or paths with line breaks cannot be written', () => {
  assert.throws(
    () =>
      formatRegText({ sections: [{ kind: 'key', path: '\\K', values: [{ kind: 'delete', name: 'a\nb' }] }] }),
    (e: unknown) => e instanceof FormatError && e.code === 'FORMAT_UNSUPPORTED',
  );
});

// --- round trip -----------------------------------------------------------------------------------

const nameChars = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !/[\r\n]/.test(s));
const keyName = fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).filter((s) => !/[\r\n\\]/.test(s));
const keyPath = fc
  .array(keyName, { maxLength: 4 })
  .map((parts) => (parts.length === 0 ? '\\' : `\\${parts.join('\\')}`));
const type = fc.oneof(fc.integer({ min: 0, max: 11 }), fc.constantFrom(0x3e8, 0x100000, 0xffffffff));
const data = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => u16(`${s}\0`)),
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
);
const value: fc.Arbitrary<RegTextValue> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), name: nameChars, type, data }, { noNullPrototype: true }),
  fc.record({ kind: fc.constant('delete' as const), name: nameChars }, { noNullPrototype: true }),
);
const section: fc.Arbitrary<RegTextSection> = fc.oneof(
  fc.record(
    { kind: fc.constant('key' as const), path: keyPath, values: fc.array(value, { maxLength: 5 }) },
    { noNullPrototype: true },
  ),
  fc.record(
    { kind: fc.constant('delete-key' as const), path: keyPath.filter((p) => p !== '\\') },
    { noNullPrototype: true },
  ),
);
const model: fc.Arbitrary<RegText> = fc.record(
  { sections: fc.array(section, { maxLength: 6 }) },
  { noNullPrototype: true },
);

test('round trip: model → text → model, in UTF-16LE and UTF-8, with and without a prefix', () => {
  fc.assert(
    fc.property(
      model,
      fc.boolean(),
      fc.constantFrom(undefined, 'HKEY_LOCAL_MACHINE\\BCD00000001'),
      (reg, utf8, prefix) => {
        const options = prefix === undefined ? {} : { prefix };
        const bytes = serializeRegText(reg, { ...options, encoding: utf8 ? 'utf-8' : 'utf-16le' });
        assert.deepEqual(parseRegText(bytes, options), reg);
      },
    ),
    { numRuns: 300 },
  );
});

test('arbitrary text gives a model or a FormatError, never another exception', () => {
  const lines = fc.array(
    fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom('[\\K]', '"a"=hex:01,\\', '@=dword:', '"a"="\\', '[-\\]', '  00,01'),
    ),
    { maxLength: 8 },
  );
  fc.assert(
    fc.property(lines, (ls) => {
      try {
        parseRegText(['Windows Registry Editor Version 5.00', ...ls].join('\r\n'));
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }),
    { numRuns: 500 },
  );
});

test('arbitrary bytes, or a valid file with bytes changed, give a model or a FormatError', () => {
  const valid = serializeRegText({
    sections: [
      {
        kind: 'key',
        path: '\\K',
        values: [
          { kind: 'set', name: 'a', type: 3, data: new Uint8Array(60).fill(7) },
          { kind: 'set', name: 's', type: 1, data: u16('text\0') },
        ],
      },
    ],
  });
  const mutated = fc
    .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    })
    .map((changes) => {
      const copy = valid.slice();
      for (const [at, byte] of changes) copy[at] = byte;
      return copy;
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (bytes) => {
      try {
        parseRegText(bytes);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
});
