// wimlib-imagex reports long operations on stderr as lines ended by \r, e.g.
//   Archiving file data: 12 MiB of 100 MiB (12%) done
//   Splitting WIM: 32 KiB of 49 KiB (65%) written, part 2 of 2
//   Verifying integrity of "/x/b.wim": 10 MiB of 19 MiB (52%) done
//   Verifying metadata for image 1 of 2
// (wimlib: programs/imagex.c, imagex_progress_func). This turns one such line into a ProgressEvent.

import type { ProgressEvent } from '../core/progress.ts';

const UNIT_BYTES: Readonly<Record<string, number>> = {
  bytes: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

const AMOUNT =
  /^(?<phase>[^:]+?)(?: of "[^"]*")?: (?<done>\d+) (?<doneUnit>bytes|[KMGT]iB) of (?<total>\d+) (?<totalUnit>bytes|[KMGT]iB) \((?<percent>\d+)%\) (?:done|written)(?:, part \d+ of \d+)?$/;
const ITEMS = /^(?<phase>Verifying metadata) for image (?<done>\d+) of (?<total>\d+)$/;

/** The event a progress line of wimlib-imagex stands for, or null for any other line. */
export function parseWimlibProgress(line: string): ProgressEvent | null {
  const text = line.trim();
  const amount = AMOUNT.exec(text)?.groups;
  if (amount !== undefined) {
    const doneUnit = UNIT_BYTES[amount.doneUnit ?? ''] ?? 1;
    const totalUnit = UNIT_BYTES[amount.totalUnit ?? ''] ?? 1;
    const total = Number(amount.total) * totalUnit;
    const percent = Number(amount.percent);
    // The amounts are rounded down to the unit; the percentage is finer when the unit is large.
    const done = Math.min(
      total,
      Math.max(Number(amount.done) * doneUnit, Math.round((total * percent) / 100)),
    );
    return { phase: amount.phase ?? '', done, total, unit: 'bytes' };
  }
  const items = ITEMS.exec(text)?.groups;
  if (items !== undefined) {
    return { phase: items.phase ?? '', done: Number(items.done), total: Number(items.total), unit: 'items' };
  }
  return null;
}
