// How the agent words an error on its console and in its reports.

import { AppError, errorText } from '../core/errors.ts';

/** The error's message, with its hint when it has one. */
export function messageOf(error: unknown): string {
  if (error instanceof AppError)
    return error.hint === undefined ? error.message : `${error.message} — ${error.hint}`;
  return errorText(error);
}
