import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FormatError } from '../../core/errors.ts';
import { decodeWimXmlText, parseWimXml } from './wim-xml.ts';

function utf16(text: string, bom = true): Uint8Array {
  const bytes = new Uint8Array((bom ? 2 : 0) + text.length * 2);
  const view = new DataView(bytes.buffer);
  if (bom) view.setUint16(0, 0xfeff, true);
  for (let i = 0; i < text.length; i += 1) view.setUint16((bom ? 2 : 0) + i * 2, text.charCodeAt(i), true);
  return bytes;
}

const server2022 =
  '<WIM><TOTALBYTES>5000</TOTALBYTES>' +
  '<IMAGE INDEX="2"><NAME>Windows Server 2022 SERVERSTANDARD</NAME><DESCRIPTION>Desktop &amp; more</DESCRIPTION>' +
  '<DIRCOUNT>20</DIRCOUNT><FILECOUNT>100</FILECOUNT><TOTALBYTES>123456789012</TOTALBYTES>' +
  '<WINDOWS><ARCH>9</ARCH><PRODUCTNAME>Microsoft® Windows® Operating System</PRODUCTNAME>' +
  '<EDITIONID>ServerStandard</EDITIONID><INSTALLATIONTYPE>Server</INSTALLATIONTYPE>' +
  '<LANGUAGES><LANGUAGE>en-US</LANGUAGE><LANGUAGE>de-DE</LANGUAGE><DEFAULT>en-US</DEFAULT></LANGUAGES>' +
  '<VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>20348</BUILD><SPBUILD>587</SPBUILD><SPLEVEL>0</SPLEVEL></VERSION>' +
  '</WINDOWS></IMAGE>' +
  '<IMAGE INDEX="1"><NAME>Core</NAME><WINDOWS><ARCH>12</ARCH><VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR><BUILD>26100</BUILD></VERSION></WINDOWS></IMAGE>' +
  '</WIM>';

test('the images of a WIM XML are typed and ordered by index', () => {
  const xml = parseWimXml(utf16(server2022));
  assert.equal(xml.totalBytes, 5000);
  assert.deepEqual(xml.images, [
    {
      index: 1,
      name: 'Core',
      description: null,
      editionId: null,
      installationType: null,
      build: '10.0.26100.0',
      arch: 'arm64',
      languages: [],
      totalBytes: null,
      fileCount: null,
      dirCount: null,
    },
    {
      index: 2,
      name: 'Windows Server 2022 SERVERSTANDARD',
      description: 'Desktop & more',
      editionId: 'ServerStandard',
      installationType: 'Server',
      build: '10.0.20348.587',
      arch: 'amd64',
      languages: ['en-US', 'de-DE'],
      totalBytes: 123456789012,
      fileCount: 100,
      dirCount: 20,
    },
  ]);
});

test('the byte-order mark is optional; odd lengths and lone surrogates are FormatErrors', () => {
  assert.equal(decodeWimXmlText(utf16('<WIM/>', false)), '<WIM/>');
  assert.throws(() => decodeWimXmlText(new Uint8Array(3)), FormatError);
  assert.throws(() => decodeWimXmlText(Uint8Array.of(0xff, 0xfe, 0x00, 0xd8)), FormatError);
});

test('bad XML is a FormatError that says what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['hello', /no <WIM> root/],
    ['<WIM><IMAGE INDEX="2"><NAME>x</NAME></IMAGE></WIM>', /indexes should run 1 to 1/],
    ['<WIM><IMAGE><NAME>x</NAME></IMAGE></WIM>', /decimal INDEX attribute/],
    [
      '<WIM><IMAGE INDEX="1"><FILECOUNT>many</FILECOUNT></IMAGE></WIM>',
      /<FILECOUNT> should be a decimal number/,
    ],
  ];
  for (const [xml, pattern] of cases) {
    assert.throws(
      () => parseWimXml(utf16(xml)),
      (e: unknown) => e instanceof FormatError && pattern.test(e.message),
      xml,
    );
  }
});

function parsesOrFormatError(bytes: Uint8Array): void {
  try {
    parseWimXml(bytes);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
}

test('arbitrary bytes and text give a value or a FormatError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), parsesOrFormatError));
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => parsesOrFormatError(utf16(s))));
});

test('a real-shaped XML with characters changed or cut gives a value or a FormatError', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.nat({ max: server2022.length - 1 }),
          fc.constantFrom('<', '>', '/', '"', '&', 'x', '9', ' '),
        ),
        {
          maxLength: 6,
        },
      ),
      fc.nat({ max: server2022.length }),
      (changes, keep) => {
        const chars = server2022.split('');
        for (const [at, c] of changes) chars[at] = c;
        parsesOrFormatError(utf16(chars.join('').slice(0, keep)));
      },
    ),
  );
});
