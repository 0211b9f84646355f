import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWimDirDetailed } from './wimlib.ts';

// As wimlib-imagex 1.13.5 `dir --detailed` prints it; the named stream section is shaped as the
// unnamed one, after a `Named data stream "NAME":` line.
const detailed = `----------------------------------------------------------------------------
Full Path           = "/"
Short Name          = ""
Attributes          = 0x00000010
    FILE_ATTRIBUTE_DIRECTORY is set
Link Count          = 1
\tUnnamed data stream:
Hash              = 0x0000000000000000000000000000000000000000
Uncompressed size = 0 bytes
Compressed size   = 0 bytes

----------------------------------------------------------------------------
Full Path           = "/sp ace ü "quoted".txt"
Short Name          = ""
Attributes          = 0x00000080
    FILE_ATTRIBUTE_NORMAL is set
Link Count          = 1
\tUnnamed data stream:
Hash              = 0xce3af7760f1289d02bf6a7ad19f3214c4e5c7c2e
Uncompressed size = 3 bytes
Compressed size   = 3 bytes
Offset in WIM     = 214 bytes

\tNamed data stream "Zone.Identifier":
Hash              = 0xf572d396fae9206628714fb2ce00f72e94f2258f
Uncompressed size = 26 bytes
Compressed size   = 26 bytes

----------------------------------------------------------------------------
Full Path           = "/empty"
Short Name          = ""
Attributes          = 0x00000020
    FILE_ATTRIBUTE_ARCHIVE is set
Link Count          = 1
\tUnnamed data stream:
Hash              = 0x0000000000000000000000000000000000000000
Uncompressed size = 0 bytes
Compressed size   = 0 bytes

----------------------------------------------------------------------------
Full Path           = "/Windows"
Short Name          = "WINDOWS"
Attributes          = 0x00000410
    FILE_ATTRIBUTE_DIRECTORY is set
    FILE_ATTRIBUTE_REPARSE_POINT is set
Link Count          = 1
\tReparse point stream:
Hash              = 0x1111111111111111111111111111111111111111
Uncompressed size = 40 bytes
Compressed size   = 40 bytes

`;

test('wimdir --detailed output becomes entries of the unnamed stream', () => {
  assert.deepEqual(parseWimDirDetailed(detailed), [
    { path: '/', size: 0, isDir: true, sha1: null },
    {
      path: '/sp ace ü "quoted".txt',
      size: 3,
      isDir: false,
      sha1: 'ce3af7760f1289d02bf6a7ad19f3214c4e5c7c2e',
    },
    { path: '/empty', size: 0, isDir: false, sha1: null },
    { path: '/Windows', size: 0, isDir: true, sha1: null },
  ]);
});

test('empty output lists nothing', () => {
  assert.deepEqual(parseWimDirDetailed(''), []);
});
