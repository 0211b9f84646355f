// What an operator may call a machine and label it with. A name is a DNS label (RFC 1123 §2.1:
// letters, digits and hyphens, 1 to 63 characters, not starting or ending with a hyphen): it can
// become the machine's host name. Labels are short lower-case words to group and filter machines
// by (`web`, `rack-a1`, `gen10`), at most MAX_LABELS of them.

import { AppError } from '../core/errors.ts';

export const MAX_LABELS = 32;

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const LABEL = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function validateMachineName(name: string): string {
  if (!NAME.test(name)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `machine name ${JSON.stringify(name.slice(0, 80))} is not 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen`,
      { hint: 'name machines like host names, e.g. web-01' },
    );
  }
  return name;
}

/** The labels, each checked, without duplicates, in the order given. */
export function validateLabels(labels: readonly string[]): string[] {
  const unique = [...new Set(labels)];
  if (unique.length > MAX_LABELS) {
    throw new AppError('LIMIT_EXCEEDED', `${unique.length} labels, more than ${MAX_LABELS}`, {
      hint: 'group machines with fewer labels',
    });
  }
  for (const label of unique) {
    if (!LABEL.test(label)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `label ${JSON.stringify(label.slice(0, 80))} is not 1 to 63 of a-z 0-9 . _ -, starting with a letter or digit`,
        { hint: 'use labels such as web, rack-a1 or gen10' },
      );
    }
  }
  return unique;
}
