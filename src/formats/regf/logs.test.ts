// Transaction log replay, on logs built here by the spec (msuhanov's regf specification,
// § Format of transaction log files): the hive before a change is the "primary" left dirty, the hive
// after it is what the log's dirty pages carry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../core/errors.ts';
import { Hive, REG_TYPES, encodeRegData, type HiveKey } from './index.ts';
import { BB, baseBlockChecksum, readU32, writeU32, writeU64 } from './layout.ts';
import { marvin32 } from './logs.ts';

const STAMP = 132_000_000_000_000_000n;

function dump(key: HiveKey): string[] {
  const lines = [`[${key.path}]`];
  for (const v of key.values()) lines.push(`${v.name}=${v.type}:${Buffer.from(v.data).toString('hex')}`);
  for (const s of key.subkeys()) lines.push(...dump(s));
  return lines;
}

/** Before and after: the after hive is bigger (a new value of 20 KiB) so the log also grows the file. */
function beforeAndAfter(): { before: Uint8Array; after: Uint8Array } {
  const hive = Hive.create('ROOT', { clock: () => STAMP });
  hive.ensureKey('Software\\A').setValue('s', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'one'));
  const before = hive.serialize();
  hive.ensureKey('Software\\A').setValue('s', REG_TYPES.REG_SZ, encodeRegData(REG_TYPES.REG_SZ, 'two'));
  hive.ensureKey('Software\\B').setValue('big', REG_TYPES.REG_BINARY, new Uint8Array(20_000).fill(0x5a));
  return { before, after: hive.serialize() };
}

/** The primary left dirty in the middle of writing `sequence`: primary = sequence, secondary = sequence - 1. */
function dirtyPrimary(before: Uint8Array, sequence: number): Uint8Array {
  const primary = before.slice();
  writeU32(primary, BB.primarySeq, sequence);
  writeU32(primary, BB.secondarySeq, sequence - 1);
  writeU64(primary, BB.lastWritten, STAMP);
  writeU32(primary, BB.checksum, baseBlockChecksum(primary));
  return primary;
}

function logBase(after: Uint8Array, fileType: number, sequence: number): Uint8Array {
  const base = after.slice(0, 512);
  writeU32(base, BB.primarySeq, sequence);
  writeU32(base, BB.secondarySeq, sequence);
  writeU32(base, BB.fileType, fileType);
  writeU64(base, BB.lastWritten, STAMP);
  writeU32(base, BB.checksum, baseBlockChecksum(base));
  return base;
}

/** A new-format log (§ New format): one HvLE entry carrying every 4096-byte page of `after`. */
function newFormatLog(after: Uint8Array, sequence: number): Uint8Array {
  const hbins = after.subarray(4096);
  const pages = hbins.length / 4096;
  const headerSize = 40 + 8 * pages;
  const size = Math.ceil((headerSize + hbins.length) / 512) * 512;
  const entry = new Uint8Array(size);
  entry.set([0x48, 0x76, 0x4c, 0x45]);
  writeU32(entry, 4, size);
  writeU32(entry, 12, sequence);
  writeU32(entry, 16, hbins.length);
  writeU32(entry, 20, pages);
  for (let i = 0; i < pages; i++) {
    writeU32(entry, 40 + 8 * i, i * 4096);
    writeU32(entry, 44 + 8 * i, 4096);
  }
  entry.set(hbins, headerSize);
  writeU64(entry, 24, marvin32(entry, 40, size));
  writeU64(entry, 32, marvin32(entry, 0, 32));
  const log = new Uint8Array(512 + size);
  log.set(logBase(after, 6, sequence));
  log.set(entry, 512);
  return log;
}

/** An old-format log (§ Old format): "DIRT", a bitmap of 512-byte pages, then the dirty pages. */
function oldFormatLog(after: Uint8Array, sequence: number): Uint8Array {
  const hbins = after.subarray(4096);
  const bits = hbins.length / 512;
  const vector = Math.ceil((4 + bits / 8) / 512) * 512;
  const log = new Uint8Array(512 + vector + hbins.length);
  log.set(logBase(after, 1, sequence));
  log.set([0x44, 0x49, 0x52, 0x54], 512);
  log.fill(0xff, 516, 516 + bits / 8);
  log.set(hbins, 512 + vector);
  return log;
}

test('Marvin32 gives the hashes of a log entry Windows wrote', () => {
  // The first 32 bytes (up to and with hash-1) of the HvLE entry at 0x200 of the NTUSER.DAT.LOG in
  // ../shared/fixtures/real/hives, and the hash-2 Windows stored after them.
  const head = Buffer.from('48764c45002e0000000000008300000000000700020000001dd9b16db892ae9e', 'hex');
  assert.equal(marvin32(head, 0, 32), 0xb41dc2e43017e264n);
});

test('a dirty hive with a new-format log is refused without replay and recovered with it', () => {
  const { before, after } = beforeAndAfter();
  const primary = dirtyPrimary(before, 8);
  const log = newFormatLog(after, 8);
  assert.throws(
    () => Hive.parse(primary, { logs: [log] }),
    (e: unknown) => e instanceof AppError && e.code === 'HIVE_DIRTY' && /--replay-logs/.test(e.message),
  );
  const replayed = Hive.parse(primary, { logs: [new Uint8Array(0), log], replayLogs: true });
  assert.deepEqual(dump(replayed.root), dump(Hive.parse(after).root));
  assert.equal(replayed.getKey('Software\\B')?.value('big')?.data.length, 20_000);
});

test('a new-format entry with a bad hash is not applied', () => {
  const { before, after } = beforeAndAfter();
  const log = newFormatLog(after, 8);
  log[512 + 40 + 100] = (log[512 + 40 + 100] ?? 0) ^ 1;
  assert.throws(
    () => Hive.parse(dirtyPrimary(before, 8), { logs: [log], replayLogs: true }),
    (e: unknown) => e instanceof AppError && e.code === 'HIVE_DIRTY',
  );
});

test('entries older than the hive are not replayed', () => {
  const { before, after } = beforeAndAfter();
  assert.throws(
    () => Hive.parse(dirtyPrimary(before, 8), { logs: [newFormatLog(after, 5)], replayLogs: true }),
    (e: unknown) => e instanceof AppError && e.code === 'HIVE_DIRTY',
  );
});

test('a dirty hive with an old-format log is recovered', () => {
  const { before, after } = beforeAndAfter();
  const replayed = Hive.parse(dirtyPrimary(before, 8), { logs: [oldFormatLog(after, 8)], replayLogs: true });
  assert.deepEqual(dump(replayed.root), dump(Hive.parse(after).root));
});

test('a bad primary checksum makes the hive dirty; the log restores the base block', () => {
  const { before, after } = beforeAndAfter();
  const primary = dirtyPrimary(before, 8);
  writeU32(primary, BB.checksum, readU32(primary, BB.checksum) ^ 0x10);
  writeU32(primary, BB.secondarySeq, 8);
  assert.throws(
    () => Hive.parse(primary),
    (e: unknown) => e instanceof AppError && e.code === 'HIVE_DIRTY' && /checksum/.test(e.message),
  );
  const replayed = Hive.parse(primary, { logs: [newFormatLog(after, 8)], replayLogs: true });
  assert.deepEqual(dump(replayed.root), dump(Hive.parse(after).root));
});

test('an old-format log with another timestamp does not apply', () => {
  const { before, after } = beforeAndAfter();
  const primary = dirtyPrimary(before, 8);
  writeU64(primary, BB.lastWritten, STAMP + 1n);
  writeU32(primary, BB.checksum, baseBlockChecksum(primary));
  assert.throws(
    () => Hive.parse(primary, { logs: [oldFormatLog(after, 8)], replayLogs: true }),
    (e: unknown) => e instanceof AppError && e.code === 'HIVE_DIRTY' && /timestamp/.test(e.message),
  );
});
