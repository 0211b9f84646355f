// Which disk a deployment writes, after Ironic's root device hints (ironic-python-agent,
// device_hints.py): every field of the rule must match, and exactly one disk must match them all.
// No field: the smallest non-removable disk that holds what the image needs. No match, several
// matches, a tie for the smallest, or a matching disk too small: the deployment fails with the
// candidates named. The agent never guesses which disk to erase.
//
//   size       a comparison with a size: ">= 100G", "<= 2T", "< 500G", "> 1T", or "120G" (equal to
//              within 1%); sizes in bytes or K/M/G/T, powers of 1024, as everywhere in winsmith
//   model, vendor, serial, wwn
//              equal, ignoring case and surrounding spaces (sysfs pads model and vendor); a wwn also
//              matches without its "0x", "naa." or "eui." prefix
//   byPath     the disk's /dev/disk/by-path link, whole or its name
//   rotational, transport
//              equal

import { AppError } from '../core/errors.ts';
import type { DiskInfo, DiskRule } from '../deploy/agent-protocol.ts';
import { parseSizeComparison, type SizeComparison } from '../deploy/size-comparison.ts';
import { formatSize } from '../image/disk/size.ts';

/** "Equal" sizes are within this fraction of the rule's size: vendors round what they print. */
const SIZE_TOLERANCE = 0.01;
/** Disks named in one message: a message stays one readable line. */
const MAX_NAMED = 16;

export function sizeMatches(comparison: SizeComparison, bytes: number): boolean {
  const { operator, bytes: wanted } = comparison;
  switch (operator) {
    case '>=':
      return bytes >= wanted;
    case '<=':
      return bytes <= wanted;
    case '>':
      return bytes > wanted;
    case '<':
      return bytes < wanted;
    case '=':
      return Math.abs(bytes - wanted) <= wanted * SIZE_TOLERANCE;
  }
}

function sameText(wanted: string, found: string | null): boolean {
  return found !== null && wanted.trim().toLowerCase() === found.trim().toLowerCase();
}

function bareWwn(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/^(0x|naa\.|eui\.)/, '');
}

function sameWwn(wanted: string, found: string | null): boolean {
  return found !== null && (sameText(wanted, found) || bareWwn(wanted) === bareWwn(found));
}

function sameByPath(wanted: string, found: string | null): boolean {
  if (found === null) return false;
  return wanted === found || `/dev/disk/by-path/${wanted}` === found;
}

/** The fields of `rule` that `disk` does not match (none: it matches). */
export function mismatches(rule: DiskRule, disk: DiskInfo): string[] {
  const failed: string[] = [];
  if (rule.size !== undefined && !sizeMatches(parseSizeComparison(rule.size), disk.size)) failed.push('size');
  if (rule.model !== undefined && !sameText(rule.model, disk.model)) failed.push('model');
  if (rule.vendor !== undefined && !sameText(rule.vendor, disk.vendor)) failed.push('vendor');
  if (rule.serial !== undefined && !sameText(rule.serial, disk.serial)) failed.push('serial');
  if (rule.wwn !== undefined && !sameWwn(rule.wwn, disk.wwn)) failed.push('wwn');
  if (rule.byPath !== undefined && !sameByPath(rule.byPath, disk.byPath)) failed.push('byPath');
  if (rule.rotational !== undefined && rule.rotational !== disk.rotational) failed.push('rotational');
  if (rule.transport !== undefined && rule.transport !== disk.transport) failed.push('transport');
  return failed;
}

/** One disk in a few words: path, size and what tells it apart. */
export function describeDisk(disk: DiskInfo): string {
  const details = [
    formatSize(disk.size),
    disk.transport,
    disk.model === null ? null : `model ${JSON.stringify(disk.model)}`,
    disk.serial === null ? null : `serial ${JSON.stringify(disk.serial)}`,
    disk.removable ? 'removable' : null,
  ].filter((d) => d !== null);
  return `${disk.path} (${details.join(', ')})`;
}

function describeDisks(disks: readonly DiskInfo[]): string {
  if (disks.length === 0) return 'none';
  const named = disks.slice(0, MAX_NAMED).map(describeDisk).join(', ');
  return disks.length > MAX_NAMED ? `${named} and ${disks.length - MAX_NAMED} more` : named;
}

/** The rule as given, e.g. {size: ">= 100G", rotational: false}. */
export function describeRule(rule: DiskRule): string {
  const fields = Object.entries(rule)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  return fields.length === 0
    ? 'the default rule (the smallest non-removable disk that holds the image)'
    : `the disk rule {${fields.join(', ')}}`;
}

function hasFields(rule: DiskRule): boolean {
  return Object.values(rule).some((v) => v !== undefined);
}

/**
 * The one disk `rule` names among `disks`, which must hold `needBytes`; an AppError naming the
 * candidates when there is not exactly one.
 */
export function chooseDisk(disks: readonly DiskInfo[], rule: DiskRule, needBytes: number): DiskInfo {
  if (rule.size !== undefined) parseSizeComparison(rule.size);
  const need = formatSize(needBytes);
  if (!hasFields(rule)) {
    const fitting = disks.filter((d) => !d.removable && d.size >= needBytes);
    const smallest = Math.min(...fitting.map((d) => d.size));
    const chosen = fitting.filter((d) => d.size === smallest);
    if (chosen.length === 0) {
      throw new AppError(
        'NOT_FOUND',
        `no non-removable disk holds the ${need} the image needs; the disks: ${describeDisks(disks)}`,
        { hint: 'add a disk of that size, or give the deployment a disk rule that names a removable disk' },
      );
    }
    if (chosen.length > 1) {
      throw new AppError(
        'CONFLICT',
        `${chosen.length} disks tie as the smallest non-removable disk of at least ${need}, expected one: ${describeDisks(chosen)}`,
        { hint: 'give the deployment a disk rule that tells them apart (serial, wwn or byPath)' },
      );
    }
    return chosen[0] as DiskInfo;
  }
  const matching = disks.filter((d) => mismatches(rule, d).length === 0);
  if (matching.length === 0) {
    throw new AppError(
      'NOT_FOUND',
      `no disk matches ${describeRule(rule)}; the disks: ${describeDisks(disks)}`,
      {
        hint: "change the deployment's disk rule to match one of the disks listed",
      },
    );
  }
  if (matching.length > 1) {
    throw new AppError(
      'CONFLICT',
      `${matching.length} disks match ${describeRule(rule)}, expected exactly one: ${describeDisks(matching)}`,
      { hint: 'add a field to the rule that tells them apart (serial, wwn or byPath)' },
    );
  }
  const disk = matching[0] as DiskInfo;
  if (disk.size < needBytes) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${describeDisk(disk)}, the one disk matching ${describeRule(rule)}, is smaller than the ${need} the image needs`,
      { hint: 'deploy to a bigger disk, or a layout with smaller partitions' },
    );
  }
  return disk;
}
