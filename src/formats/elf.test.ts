import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytesSource } from '../core/byte-source.ts';
import { FormatError } from '../core/errors.ts';
import { EM_X86_64, ET, isElf, readElfDynamic, readElfSection } from './elf.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * A small ELF-64 shared object laid out by hand: header, three program headers (PT_INTERP, PT_LOAD
 * mapping the whole file at 0x400000, PT_DYNAMIC), the interpreter, a string table, the dynamic
 * section, then .modinfo, .shstrtab and four section headers.
 */
function sampleElf(options: {
  needed: string[];
  soname?: string;
  runpath?: string;
  interp?: string;
}): Uint8Array {
  const out = new Uint8Array(4096);
  const view = new DataView(out.buffer);
  const base = 0x400000;
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  view.setUint16(16, ET.ET_DYN, true);
  view.setUint16(18, EM_X86_64, true);
  view.setUint32(20, 1, true);
  view.setBigUint64(32, 64n, true); // e_phoff
  view.setUint16(52, 64, true);
  view.setUint16(54, 56, true);
  view.setUint16(56, 3, true);
  view.setUint16(58, 64, true);

  const interp = enc(`${options.interp ?? '/lib64/ld-linux-x86-64.so.2'}\0`);
  const interpAt = 0x200;
  out.set(interp, interpAt);

  const strings = ['', ...options.needed, options.soname ?? '', options.runpath ?? ''];
  const strtabAt = 0x300;
  const offsets: number[] = [];
  let cursor = 0;
  for (const s of strings) {
    offsets.push(cursor);
    out.set(enc(`${s}\0`), strtabAt + cursor);
    cursor += enc(s).byteLength + 1;
  }
  const strsz = cursor;

  const dyn: [number, number][] = options.needed.map((_, i) => [1, offsets[i + 1] ?? 0]);
  if (options.soname !== undefined) dyn.push([14, offsets[options.needed.length + 1] ?? 0]);
  if (options.runpath !== undefined) dyn.push([29, offsets[options.needed.length + 2] ?? 0]);
  dyn.push([5, base + strtabAt], [10, strsz], [0, 0]);
  const dynAt = 0x500;
  dyn.forEach(([tag, value], i) => {
    view.setBigInt64(dynAt + i * 16, BigInt(tag), true);
    view.setBigUint64(dynAt + i * 16 + 8, BigInt(value), true);
  });

  const phdr = (i: number, type: number, offset: number, size: number): void => {
    const at = 64 + i * 56;
    view.setUint32(at, type, true);
    view.setBigUint64(at + 8, BigInt(offset), true);
    view.setBigUint64(at + 16, BigInt(base + offset), true);
    view.setBigUint64(at + 32, BigInt(size), true);
  };
  phdr(0, 3, interpAt, interp.byteLength);
  phdr(1, 1, 0, out.byteLength);
  phdr(2, 2, dynAt, dyn.length * 16);

  const modinfo = enc('license=GPL\0depends=failover,net_failover\0name=virtio_net\0');
  const modinfoAt = 0x800;
  out.set(modinfo, modinfoAt);
  const shstrtab = enc('\0.modinfo\0.shstrtab\0.dynamic\0');
  const shstrtabAt = 0x900;
  out.set(shstrtab, shstrtabAt);
  const shoff = 0xa00;
  view.setBigUint64(40, BigInt(shoff), true);
  view.setUint16(60, 4, true);
  view.setUint16(62, 2, true);
  const shdr = (i: number, name: number, offset: number, size: number): void => {
    const at = shoff + i * 64;
    view.setUint32(at, name, true);
    view.setBigUint64(at + 24, BigInt(offset), true);
    view.setBigUint64(at + 32, BigInt(size), true);
  };
  shdr(1, 1, modinfoAt, modinfo.byteLength);
  shdr(2, 10, shstrtabAt, shstrtab.byteLength);
  shdr(3, 20, dynAt, dyn.length * 16);
  return out;
}

test('the interpreter, needed libraries in order, soname and run path of a shared object', async () => {
  const bytes = sampleElf({
    needed: ['libcurl-gnutls.so.4', 'libc.so.6'],
    soname: 'nbdkit-curl-plugin.so',
    runpath: '$ORIGIN/../lib:/opt/lib',
  });
  assert.ok(isElf(bytes));
  const info = await readElfDynamic(bytesSource(bytes));
  assert.equal(info.header.type, ET.ET_DYN);
  assert.equal(info.header.machine, EM_X86_64);
  assert.equal(info.interpreter, '/lib64/ld-linux-x86-64.so.2');
  assert.deepEqual(info.needed, ['libcurl-gnutls.so.4', 'libc.so.6']);
  assert.equal(info.soname, 'nbdkit-curl-plugin.so');
  assert.deepEqual(info.runpath, ['$ORIGIN/../lib', '/opt/lib']);
});

test('a section is found by its name through .shstrtab; a missing one is null', async () => {
  const source = bytesSource(sampleElf({ needed: [] }));
  const modinfo = await readElfSection(source, '.modinfo');
  assert.equal(
    new TextDecoder().decode(modinfo ?? new Uint8Array()),
    'license=GPL\0depends=failover,net_failover\0name=virtio_net\0',
  );
  assert.equal(await readElfSection(source, '.comment'), null);
});

test('what is not a 64-bit little-endian ELF is refused, saying what it is', async () => {
  await assert.rejects(
    readElfDynamic(bytesSource(enc('#!/bin/sh\necho hello, this is a script\n'.repeat(3)))),
    /not an ELF file/,
  );
  const elf32 = sampleElf({ needed: [] });
  elf32[4] = 1;
  await assert.rejects(readElfDynamic(bytesSource(elf32)), (e: FormatError) => {
    assert.equal(e.code, 'FORMAT_UNSUPPORTED');
    assert.match(e.message, /ELF class 1 data 1 is not supported; expected class 2 \(64-bit\)/);
    return true;
  });
  await assert.rejects(
    readElfDynamic(bytesSource(enc('\x7fELF'))),
    /ELF header: 64 bytes at 0 go past the end \(4 bytes\)/,
  );
});

test('a string offset past DT_STRSZ, or a string table outside every PT_LOAD, is a FormatError', async () => {
  const bytes = sampleElf({ needed: ['libc.so.6'] });
  const view = new DataView(bytes.buffer);
  const badOffset = bytes.slice();
  new DataView(badOffset.buffer).setBigUint64(0x500 + 8, 999n, true);
  await assert.rejects(readElfDynamic(bytesSource(badOffset)), /DT_NEEDED offset 999 is past DT_STRSZ 13/);
  const unmapped = bytes.slice();
  // DT_STRTAB is the second entry: DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_NULL.
  assert.equal(view.getBigInt64(0x510, true), 5n);
  new DataView(unmapped.buffer).setBigUint64(0x518, 0x10n, true);
  await assert.rejects(readElfDynamic(bytesSource(unmapped)), /address 0x10 is in no PT_LOAD segment/);
});

test('mutated bytes give a reading or a FormatError, never another error', async () => {
  const valid = sampleElf({ needed: ['libz.so.1', 'libc.so.6'], soname: 'x.so', runpath: '/r' });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat({ max: 0xb00 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      async (changes) => {
        const bytes = valid.slice();
        for (const [at, value] of changes) bytes[at] = value;
        const reads = [
          () => readElfDynamic(bytesSource(bytes)),
          () => readElfSection(bytesSource(bytes), '.modinfo'),
        ];
        for (const read of reads) {
          try {
            await read();
          } catch (e) {
            assert.ok(e instanceof FormatError, String(e));
          }
        }
      },
    ),
  );
});
