// Recovery of a dirty hive from its transaction logs.
// Spec: msuhanov, "Windows registry file format specification" (github msuhanov/regf):
//   § Format of transaction log files › Old format (a 512-byte copy of the base block with file
//   type 1 (2 on Windows 2000), the "DIRT" dirty vector: one bit a 512-byte page of the hive bins
//   data, then the dirty pages, sector-aligned), › New format (base block copy with file type 6,
//   "HvLE" log entries from offset 512 with dirty page references and two Marvin32 hashes, Notes
//   1–9), § Dirty state of a hive, § Multiple transaction log files (entries of .LOG1 and .LOG2
//   are applied together, by sequence number).
// Recovery works on a copy of the primary file and returns it clean (equal sequence numbers, a
// valid checksum); the caller then reads it as any clean hive. Offsets in the errors are file
// offsets inside the log named.

import { AppError, FormatError } from '../../core/errors.ts';
import {
  BASE_BLOCK_SIZE,
  BB,
  FILE_TYPE_LOG_NEW,
  FILE_TYPE_LOG_OLD,
  FILE_TYPE_LOG_OLD_W2K,
  HBIN_ALIGN,
  MAX_HIVE_SIZE,
  baseBlockChecksum,
  readU32,
  readU64,
  writeU32,
} from './layout.ts';

const SECTOR = 512;
const LOG_ENTRY_HEADER = 40;
/**
 * Marvin32 seed of log entry hashes, "82 EF 4D 88 7A 4E 55 C5" (§ New format › Notes 3): the
 * 64-bit seed 0x82EF4D887A4E55C5 written most significant byte first (checked against the hashes of
 * a real log written by Windows, ../shared/fixtures/real/hives/NTUSER.DAT.LOG).
 */
const MARVIN_SEED_LO = 0x7a4e_55c5;
const MARVIN_SEED_HI = 0x82ef_4d88;

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

/** Marvin32 (the hash of Windows' RtlComputeMarvin32 / .NET's Marvin) as a 64-bit value. */
export function marvin32(data: Uint8Array, start: number, end: number): bigint {
  let lo = MARVIN_SEED_LO;
  let hi = MARVIN_SEED_HI;
  const block = (): void => {
    hi = (hi ^ lo) >>> 0;
    lo = rotl(lo, 20);
    lo = (lo + hi) >>> 0;
    hi = rotl(hi, 9);
    hi = (hi ^ lo) >>> 0;
    lo = rotl(lo, 27);
    lo = (lo + hi) >>> 0;
    hi = rotl(hi, 19);
  };
  let p = start;
  for (; p + 4 <= end; p += 4) {
    lo = (lo + readU32(data, p)) >>> 0;
    block();
  }
  const rest = end - p;
  const b0 = data[p] ?? 0;
  const b1 = data[p + 1] ?? 0;
  const b2 = data[p + 2] ?? 0;
  const last =
    rest === 0
      ? 0x80
      : rest === 1
        ? 0x8000 | b0
        : rest === 2
          ? 0x80_0000 | b0 | (b1 << 8)
          : 0x8000_0000 | b0 | (b1 << 8) | (b2 << 16);
  lo = (lo + last) >>> 0;
  block();
  block();
  return (BigInt(hi) << 32n) | BigInt(lo);
}

interface LogBase {
  readonly index: number;
  readonly bytes: Uint8Array;
  readonly fileType: number;
  readonly sequence: number;
  readonly lastWritten: bigint;
  readonly hbinsSize: number;
}

interface LogEntry {
  readonly sequence: number;
  readonly hbinsSize: number;
  readonly pages: readonly { readonly offset: number; readonly data: Uint8Array }[];
}

/** A log's base block copy (its first sector) when it is valid, else undefined (the log is not used). */
function readLogBase(bytes: Uint8Array, index: number): LogBase | undefined {
  if (bytes.length < SECTOR) return undefined;
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'regf') return undefined;
  if (readU32(bytes, BB.checksum) !== baseBlockChecksum(bytes)) return undefined;
  const fileType = readU32(bytes, BB.fileType);
  if (fileType !== FILE_TYPE_LOG_OLD && fileType !== FILE_TYPE_LOG_OLD_W2K && fileType !== FILE_TYPE_LOG_NEW)
    return undefined;
  return {
    index,
    bytes,
    fileType,
    sequence: readU32(bytes, BB.primarySeq),
    lastWritten: readU64(bytes, BB.lastWritten),
    hbinsSize: readU32(bytes, BB.hbinsSize),
  };
}

/** The valid log entries of a new-format log, in file order, up to the first bad one (§ New format › Notes 8). */
function readLogEntries(log: LogBase, maxHbinsSize: number): LogEntry[] {
  const b = log.bytes;
  const entries: LogEntry[] = [];
  let pos = SECTOR;
  while (pos + LOG_ENTRY_HEADER <= b.length && String.fromCharCode(...b.subarray(pos, pos + 4)) === 'HvLE') {
    const size = readU32(b, pos + 4);
    if (size < LOG_ENTRY_HEADER || size % SECTOR !== 0 || pos + size > b.length) break;
    const hbinsSize = readU32(b, pos + 16);
    if (hbinsSize === 0 || hbinsSize % HBIN_ALIGN !== 0 || hbinsSize > maxHbinsSize) break;
    const count = readU32(b, pos + 20);
    if (LOG_ENTRY_HEADER + 8 * count > size) break;
    if (readU64(b, pos + 24) !== marvin32(b, pos + LOG_ENTRY_HEADER, pos + size)) break;
    if (readU64(b, pos + 32) !== marvin32(b, pos, pos + 32)) break;
    const pages: { offset: number; data: Uint8Array }[] = [];
    let dataAt = pos + LOG_ENTRY_HEADER + 8 * count;
    let ok = true;
    for (let i = 0; i < count; i++) {
      const ref = pos + LOG_ENTRY_HEADER + 8 * i;
      const offset = readU32(b, ref);
      const length = readU32(b, ref + 4);
      if (dataAt + length > pos + size || offset + length > hbinsSize) {
        ok = false;
        break;
      }
      pages.push({ offset, data: b.subarray(dataAt, dataAt + length) });
      dataAt += length;
    }
    if (!ok) break;
    entries.push({ sequence: readU32(b, pos + 12), hbinsSize, pages });
    pos += size;
  }
  return entries;
}

function noLogApplies(why: string): AppError {
  return new AppError('HIVE_DIRTY', `hive is dirty and its transaction logs cannot recover it: ${why}`, {
    hint: 'give the .LOG1/.LOG2 (or .LOG) files that belong to this hive, or use a clean copy of it',
  });
}

/** A copy of `hive` with room for `hbinsSize` bytes of hive bins data. */
function grown(hive: Uint8Array<ArrayBuffer>, hbinsSize: number): Uint8Array<ArrayBuffer> {
  const need = BASE_BLOCK_SIZE + hbinsSize;
  if (need <= hive.length) return hive;
  const out = new Uint8Array(need);
  out.set(hive);
  return out;
}

function finishBaseBlock(hive: Uint8Array<ArrayBuffer>, sequence: number, hbinsSize: number): Uint8Array {
  writeU32(hive, BB.primarySeq, sequence);
  writeU32(hive, BB.secondarySeq, sequence);
  writeU32(hive, BB.fileType, 0);
  writeU32(hive, BB.hbinsSize, hbinsSize);
  writeU32(hive, BB.checksum, baseBlockChecksum(hive));
  return hive;
}

function recoverNew(
  primary: Uint8Array,
  logs: readonly LogBase[],
  primaryValid: boolean,
  maxHbinsSize: number,
): Uint8Array {
  let hive = new Uint8Array(primary);
  let candidates = logs;
  if (!primaryValid) {
    // § New format › Notes 6 and § Multiple transaction log files: the base block comes from the
    // log with the latest entries, and only that log is used.
    const latest = [...logs].sort((a, b) => b.sequence - a.sequence)[0];
    if (latest === undefined) throw noLogApplies('no valid log');
    hive.set(latest.bytes.subarray(0, SECTOR), 0);
    candidates = [latest];
  }
  const secondary = readU32(hive, BB.secondarySeq);
  const bySequence = new Map<number, LogEntry>();
  for (const log of candidates) {
    for (const entry of readLogEntries(log, maxHbinsSize)) {
      if (entry.sequence >= log.sequence && !bySequence.has(entry.sequence))
        bySequence.set(entry.sequence, entry);
    }
  }
  const starts = candidates
    .map((l) => l.sequence)
    .filter((s) => s >= secondary && bySequence.has(s))
    .sort((a, b) => a - b);
  const first = starts[0];
  if (first === undefined) {
    throw noLogApplies(`no log entry continues from the hive's sequence number ${secondary}`);
  }
  let sequence = first;
  let hbinsSize = readU32(hive, BB.hbinsSize);
  for (let entry = bySequence.get(sequence); entry !== undefined; entry = bySequence.get(sequence + 1)) {
    hive = grown(hive, entry.hbinsSize);
    for (const page of entry.pages) hive.set(page.data, BASE_BLOCK_SIZE + page.offset);
    hbinsSize = entry.hbinsSize;
    sequence = entry.sequence;
  }
  return finishBaseBlock(hive, sequence, hbinsSize);
}

function recoverOld(
  primary: Uint8Array,
  logs: readonly LogBase[],
  primaryValid: boolean,
  maxHbinsSize: number,
): Uint8Array {
  // § Old format › Base block, Notes 3: a log applies when its last written timestamp equals the
  // primary's (or, with a bad primary base block, the first hive bin's timestamp).
  const stamp = primaryValid ? readU64(primary, BB.lastWritten) : readU64(primary, BASE_BLOCK_SIZE + 20);
  const log = logs.find((l) => l.lastWritten === stamp && readU32(l.bytes, BB.secondarySeq) === l.sequence);
  if (log === undefined) throw noLogApplies("no old-format log has the hive's last written timestamp");
  const b = log.bytes;
  const hbinsSize = log.hbinsSize;
  if (hbinsSize === 0 || hbinsSize % HBIN_ALIGN !== 0 || hbinsSize > maxHbinsSize) {
    throw new FormatError(`transaction log ${log.index + 1}: hive bins data size ${hbinsSize} is not valid`, {
      offset: BB.hbinsSize,
    });
  }
  const bits = hbinsSize / SECTOR;
  const vectorBytes = Math.ceil(bits / 8);
  if (
    SECTOR + 4 + vectorBytes > b.length ||
    String.fromCharCode(...b.subarray(SECTOR, SECTOR + 4)) !== 'DIRT'
  ) {
    throw new FormatError(
      `transaction log ${log.index + 1}: expected the dirty vector "DIRT" of ${vectorBytes} bytes`,
      {
        offset: SECTOR,
      },
    );
  }
  let hive = new Uint8Array(primary);
  if (!primaryValid) hive.set(b.subarray(0, SECTOR), 0);
  hive = grown(hive, hbinsSize);
  let page = Math.ceil((SECTOR + 4 + vectorBytes) / SECTOR) * SECTOR;
  for (let bit = 0; bit < bits; bit++) {
    if ((((b[SECTOR + 4 + (bit >> 3)] ?? 0) >> (bit & 7)) & 1) === 0) continue;
    if (page + SECTOR > b.length) {
      throw new FormatError(
        `transaction log ${log.index + 1}: dirty page ${bit} goes past the end of the log`,
        {
          offset: page,
        },
      );
    }
    hive.set(b.subarray(page, page + SECTOR), BASE_BLOCK_SIZE + SECTOR * bit);
    page += SECTOR;
  }
  return finishBaseBlock(hive, Math.max(log.sequence, readU32(primary, BB.primarySeq)), hbinsSize);
}

/**
 * The hive recovered from its transaction logs (old or new format, in any order), as a clean
 * primary file. AppError HIVE_DIRTY when no log applies; FormatError for a log that is corrupt.
 */
export function recoverHive(primary: Uint8Array, logs: readonly Uint8Array[]): Uint8Array {
  const primaryValid = readU32(primary, BB.checksum) === baseBlockChecksum(primary);
  const bases = logs.map((l, i) => readLogBase(l, i)).filter((l) => l !== undefined);
  // A log can grow the hive, but never by more than the bytes it carries.
  const maxHbinsSize = Math.min(MAX_HIVE_SIZE, primary.length + logs.reduce((n, l) => n + l.length, 0));
  const newLogs = bases.filter((l) => l.fileType === FILE_TYPE_LOG_NEW);
  if (newLogs.length > 0) return recoverNew(primary, newLogs, primaryValid, maxHbinsSize);
  const oldLogs = bases.filter((l) => l.fileType !== FILE_TYPE_LOG_NEW);
  if (oldLogs.length > 0) return recoverOld(primary, oldLogs, primaryValid, maxHbinsSize);
  throw noLogApplies('none of the logs given has a valid base block copy');
}
