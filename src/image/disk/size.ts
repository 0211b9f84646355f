// Sizes as users write them: bytes, or a number with K/M/G/T (powers of 1024, optional "iB"/"B").

import { AppError } from '../../core/errors.ts';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: MiB, G: GiB, T: 1024 * GiB };

export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  const unit = m === null ? undefined : UNITS[(m[2] ?? '').toUpperCase()];
  if (m === null || unit === undefined) {
    throw new AppError('INVALID_ARGUMENT', `${what} "${text}" is not a size`, {
      hint: 'write bytes, or a number with K, M, G or T (powers of 1024), e.g. 40G or 512M',
    });
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new AppError('INVALID_ARGUMENT', `${what} "${text}" is not a positive size below 8 PiB`);
  }
  return bytes;
}

export function formatSize(bytes: number): string {
  if (bytes >= GiB && (bytes * 10) % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${Math.ceil(bytes / MiB)} MiB`;
  return `${bytes} bytes`;
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
