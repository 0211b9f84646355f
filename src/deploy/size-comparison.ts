// The size field of a target disk rule: an optional operator (>=, <=, >, <, =, ==) and a size, as
// a profile is checked with and as the agent matches disks with (src/agent/disk-rule.ts).

import { AppError } from '../core/errors.ts';
import { parseSize } from '../image/disk/size.ts';

export type SizeOperator = '>=' | '<=' | '>' | '<' | '=';

export interface SizeComparison {
  readonly operator: SizeOperator;
  readonly bytes: number;
}

/** Reads the rule's size field: an optional operator (>=, <=, >, <, =, ==) and a size. */
export function parseSizeComparison(text: string): SizeComparison {
  const m = /^\s*(>=|<=|==|=|>|<)?\s*(.*)$/.exec(text);
  const operator = (m?.[1] === '==' ? '=' : (m?.[1] ?? '=')) as SizeOperator;
  try {
    return { operator, bytes: parseSize(m?.[2] ?? '', 'the disk rule size') };
  } catch (cause) {
    throw new AppError('INVALID_ARGUMENT', `the disk rule size "${text}" is not a comparison with a size`, {
      hint: 'write e.g. ">= 100G", "< 2T" or "120G" (equal within 1%)',
      cause,
    });
  }
}
