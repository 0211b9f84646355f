// A value the agent received (from the server, or from a file it was given) checked against its
// schema: the value typed, or one FORMAT_INVALID line naming the first field found wrong.

import type { z } from 'zod';
import { AppError } from '../core/errors.ts';

export function validated<T>(schema: z.ZodType<T>, value: unknown, what: string, hint?: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where =
    issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.map(String).join('.')}`;
  throw new AppError(
    'FORMAT_INVALID',
    `${what} is not valid${where}: ${issue?.message ?? 'unknown problem'}`,
    {
      ...(hint === undefined ? {} : { hint }),
    },
  );
}
