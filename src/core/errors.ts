// The one error type of winsmith: a stable code, a message that says what was expected and what
// was found, and a hint that tells the user what to do.

import type { ErrorCode } from './error-codes.ts';

export interface AppErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = options.hint;
  }
}

export type FormatErrorCode = 'FORMAT_INVALID' | 'FORMAT_UNSUPPORTED' | 'LIMIT_EXCEEDED';

/**
 * Raised by the pure codecs of src/formats only. `offset` is where in the input the problem is,
 * and the message names it, so corrupt, unsupported and over-a-limit input stay apart.
 */
export class FormatError extends AppError {
  readonly offset: number | undefined;

  constructor(
    message: string,
    options: AppErrorOptions & { readonly offset?: number; readonly code?: FormatErrorCode } = {},
  ) {
    const where = options.offset === undefined ? '' : ` (at offset 0x${options.offset.toString(16)})`;
    super(options.code ?? 'FORMAT_INVALID', `${message}${where}`, options);
    this.name = 'FormatError';
    this.offset = options.offset;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
