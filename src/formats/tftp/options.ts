// TFTP option negotiation for a read request: RFC 2347 §2 (the server answers with an OACK naming
// only the options it accepts; an option it does not know or refuses is left out), RFC 2348 §2
// (blksize 8–65464; the server may answer a smaller value), RFC 2349 §2–3 (timeout 1–255 seconds,
// echoed as asked: a server cannot lower it, so one above the server's maximum is refused, left out
// of the OACK; tsize 0 in a read request is answered with the file's size), RFC 7440 §3 (windowsize
// 1–65535; the server may answer a smaller value).

import {
  TFTP_DEFAULT_BLKSIZE,
  TFTP_MAX_BLKSIZE,
  TFTP_MAX_TIMEOUT,
  TFTP_MAX_WINDOWSIZE,
  TFTP_MIN_BLKSIZE,
  TFTP_MIN_TIMEOUT,
  type TftpOption,
} from './tftp.ts';

export interface TftpLimits {
  /** Largest block size the server agrees to (≤ 65464). */
  readonly maxBlksize: number;
  /** Largest window the server agrees to (≤ 65535). */
  readonly maxWindowsize: number;
  /** Largest windowsize × blksize agreed (bytes in flight): the windowsize is lowered to fit, not below 1. */
  readonly maxWindowBytes?: number;
  /** Largest timeout option accepted, in seconds (≤ 255); a larger one is refused. */
  readonly maxTimeout?: number;
}

export interface TftpTransferSettings {
  readonly blksize: number;
  readonly windowsize: number;
  /** Seconds, when the client asked for one. */
  readonly timeout: number | undefined;
  /** The OACK's options, in the request's order; empty: no OACK, DATA block 1 answers the request. */
  readonly oack: readonly TftpOption[];
}

function decimal(value: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(value)) return undefined;
  return Number(value);
}

/** What a read request's options come to, given the file's size and the server's limits. */
export function negotiateTftpRead(
  options: readonly TftpOption[],
  fileSize: number,
  limits: TftpLimits,
): TftpTransferSettings {
  let blksize = TFTP_DEFAULT_BLKSIZE;
  let windowsize = 1;
  let windowsizeAt = -1;
  let timeout: number | undefined;
  const oack: TftpOption[] = [];
  const seen = new Set<string>();
  for (const [rawName, rawValue] of options) {
    const name = rawName.toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    const value = decimal(rawValue);
    if (value === undefined) continue;
    switch (name) {
      case 'blksize':
        if (value >= TFTP_MIN_BLKSIZE) {
          blksize = Math.min(value, limits.maxBlksize, TFTP_MAX_BLKSIZE);
          oack.push([rawName, String(blksize)]);
        }
        break;
      case 'windowsize':
        if (value >= 1) {
          windowsize = Math.min(value, limits.maxWindowsize, TFTP_MAX_WINDOWSIZE);
          windowsizeAt = oack.length;
          oack.push([rawName, String(windowsize)]);
        }
        break;
      case 'timeout':
        if (
          value >= TFTP_MIN_TIMEOUT &&
          value <= Math.min(limits.maxTimeout ?? TFTP_MAX_TIMEOUT, TFTP_MAX_TIMEOUT)
        ) {
          timeout = value;
          oack.push([rawName, String(value)]);
        }
        break;
      case 'tsize':
        oack.push([rawName, String(fileSize)]);
        break;
      default:
        break;
    }
  }
  const byteCap = limits.maxWindowBytes ?? Infinity;
  const entry = oack[windowsizeAt];
  if (entry !== undefined && windowsize * blksize > byteCap) {
    windowsize = Math.max(1, Math.floor(byteCap / blksize));
    oack[windowsizeAt] = [entry[0], String(windowsize)];
  }
  return { blksize, windowsize, timeout, oack };
}
