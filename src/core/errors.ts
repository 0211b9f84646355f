// The one error type of winsmith: a stable code, a message that says what was expected and what
// was found, and a hint that tells the user what to do. Messages and hints are one line of
// printable text whatever they quote: names read from a hive, a path, a request are often an
// attacker's bytes, so control and non-printing characters are escaped where the error is made.

import type { ErrorCode } from './error-codes.ts';

export interface AppErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
  /** For RATE_LIMITED and UNAVAILABLE: the seconds before another attempt may succeed (HTTP Retry-After). */
  readonly retryAfterSeconds?: number;
}

/**
 * Control characters (C0, DEL, C1 such as U+0085), line and paragraph separators, format characters
 * (bidirectional overrides, zero-width joiners) and lone surrogates: what could break a line, hide
 * text or reorder it on a terminal.
 */
const NON_PRINTING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** `text` with each non-printing character written as `\xHH` or `\uHHHH`: one printable line. */
export function printable(text: string): string {
  return text.replace(NON_PRINTING, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(printable(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = options.hint === undefined ? undefined : printable(options.hint);
    this.retryAfterSeconds = options.retryAfterSeconds;
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

/** The message of a thrown value: an Error's own, anything else as a string. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
