import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytesSource } from '../core/byte-source.ts';
import { FormatError } from '../core/errors.ts';
import {
  CPIO_TYPES,
  MAX_NAME_SIZE,
  cpioPadding,
  readCpioMembers,
  serializeCpioHeader,
  serializeCpioTrailer,
  type CpioHeader,
} from './cpio.ts';

interface Member {
  readonly header: CpioHeader;
  readonly data: Uint8Array;
}

function header(name: string, mode: number, fileSize: number, ino = 1): CpioHeader {
  return {
    name,
    ino,
    mode,
    uid: 0,
    gid: 0,
    nlink: 1,
    mtime: 0,
    fileSize,
    devMajor: 0,
    devMinor: 0,
    rdevMajor: 0,
    rdevMinor: 0,
  };
}

function archive(members: readonly Member[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const m of members) {
    parts.push(serializeCpioHeader(m.header), m.data, new Uint8Array(cpioPadding(m.data.byteLength)));
  }
  parts.push(serializeCpioTrailer());
  return new Uint8Array(Buffer.concat(parts));
}

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

test('a member is a 110-byte ASCII header, its name with a NUL, both padded to 4, then its data padded to 4', () => {
  const bytes = archive([
    { header: header('init', CPIO_TYPES.S_IFREG | 0o755, 3, 0x2a), data: ascii('abc') },
  ]);
  const text = new TextDecoder('latin1').decode(bytes);
  assert.equal(
    text.slice(0, 110),
    '070701' +
      '0000002a' + // ino
      '000081ed' + // mode: regular file, 0755
      '00000000' + // uid
      '00000000' + // gid
      '00000001' + // nlink
      '00000000' + // mtime
      '00000003' + // filesize
      '00000000' + // devmajor
      '00000000' + // devminor
      '00000000' + // rdevmajor
      '00000000' + // rdevminor
      '00000005' + // namesize, with the NUL
      '00000000', // check
  );
  // 110 + 5 = 115, padded to 116; data 3 bytes padded to 4.
  assert.equal(text.slice(110, 116), 'init\0\0');
  assert.equal(text.slice(116, 120), 'abc\0');
  assert.equal(text.slice(120, 126), '070701');
  assert.ok(text.endsWith('TRAILER!!!\0\0\0\0'), 'the trailer: 110 + 11 bytes, padded to 124');
  assert.equal(bytes.byteLength, 120 + 124);
});

test('the members read back are the ones written, with where their data is', async () => {
  const members: Member[] = [
    { header: header('.', CPIO_TYPES.S_IFDIR | 0o755, 0, 1), data: new Uint8Array() },
    { header: header('bin', CPIO_TYPES.S_IFLNK | 0o777, 7, 2), data: ascii('usr/bin') },
    {
      header: { ...header('dev/console', CPIO_TYPES.S_IFCHR | 0o600, 0, 3), rdevMajor: 5, rdevMinor: 1 },
      data: new Uint8Array(),
    },
    { header: header('init', CPIO_TYPES.S_IFREG | 0o755, 9, 4), data: ascii('#!/bin/sh') },
  ];
  const bytes = archive(members);
  const read = await readCpioMembers(bytesSource(bytes));
  assert.deepEqual(
    read.map(({ dataOffset: _, ...h }) => h),
    members.map((m) => m.header),
  );
  for (const [i, m] of read.entries()) {
    assert.deepEqual(bytes.subarray(m.dataOffset, m.dataOffset + m.fileSize), members[i]?.data);
  }
});

test('readCpioMembers(archive(members)) gives the members back, for any names, modes and data', async () => {
  const member = fc
    .record({
      name: fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }).filter((s) => !s.includes('\0')),
      mode: fc.integer({ min: 0, max: 0xffff }),
      uid: fc.nat(),
      mtime: fc.integer({ min: 0, max: 0xffffffff }),
      data: fc.uint8Array({ maxLength: 40 }),
    })
    .filter((m) => m.name !== 'TRAILER!!!');
  await fc.assert(
    fc.asyncProperty(fc.array(member, { maxLength: 8 }), async (list) => {
      const members = list.map((m, i) => ({
        header: { ...header(m.name, m.mode, m.data.byteLength, i + 1), uid: m.uid, mtime: m.mtime },
        data: m.data,
      }));
      const bytes = archive(members);
      const read = await readCpioMembers(bytesSource(bytes));
      assert.deepEqual(
        read.map(({ dataOffset: _, ...h }) => h),
        members.map((m) => m.header),
      );
      assert.deepEqual(
        read.map((m) => bytes.slice(m.dataOffset, m.dataOffset + m.fileSize)),
        members.map((m) => m.data),
      );
    }),
  );
});

test('arbitrary or cut bytes give members or a FormatError, never another error', async () => {
  const valid = archive([{ header: header('a', CPIO_TYPES.S_IFREG | 0o644, 5), data: ascii('hello') }]);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat({ max: valid.byteLength }).map((n) => valid.slice(0, n)),
        fc
          .tuple(fc.nat({ max: valid.byteLength - 1 }), fc.integer({ min: 0, max: 255 }))
          .map(([i, b]) => valid.map((x, j) => (j === i ? b : x))),
      ),
      async (bytes) => {
        try {
          await readCpioMembers(bytesSource(bytes));
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e));
        }
      },
    ),
  );
});

test('what is not a newc archive is refused with what was found and where', async () => {
  const valid = archive([{ header: header('a', CPIO_TYPES.S_IFREG | 0o644, 5), data: ascii('hello') }]);
  const odc = ascii('070707'.padEnd(200, '0'));
  await assert.rejects(readCpioMembers(bytesSource(odc)), /cpio magic "070707" is not "070701"/);

  const crc = valid.slice();
  crc.set(ascii('070702'), 0);
  await assert.rejects(readCpioMembers(bytesSource(crc)), (e: FormatError) => {
    assert.equal(e.code, 'FORMAT_UNSUPPORTED');
    return true;
  });

  const badDigit = valid.slice();
  badDigit[20] = 0x67; // 'g' in c_mode
  await assert.rejects(
    readCpioMembers(bytesSource(badDigit)),
    /cpio header field "000081g4" is not 8 hexadecimal digits \(at offset 0xe\)/,
  );

  await assert.rejects(
    readCpioMembers(bytesSource(valid.subarray(0, 114))),
    /cpio data of a: 5 bytes at offset 112 go past the end/,
  );
  await assert.rejects(
    readCpioMembers(bytesSource(valid.subarray(0, 124))),
    /cpio header: 110 bytes at offset 120 go past the end/,
  );

  const noNul = valid.slice();
  noNul[111] = 0x62; // the name's NUL
  await assert.rejects(
    readCpioMembers(bytesSource(noNul)),
    /cpio name of 2 bytes does not end at its first NUL/,
  );
});

test('names longer than PATH_MAX and fields over 32 bits are refused, not truncated', () => {
  assert.throws(
    () => serializeCpioHeader(header('x'.repeat(MAX_NAME_SIZE), CPIO_TYPES.S_IFREG, 0)),
    (e: FormatError) =>
      e.code === 'LIMIT_EXCEEDED' && /name of 4097 bytes is longer than 4096/.test(e.message),
  );
  assert.throws(
    () => serializeCpioHeader(header('big', CPIO_TYPES.S_IFREG, 2 ** 32)),
    /cpio fileSize 4294967296 is not an integer in \[0, 0xffffffff\]/,
  );
  assert.throws(() => serializeCpioHeader(header('a\0b', CPIO_TYPES.S_IFREG, 0)), /holds a NUL/);
});
