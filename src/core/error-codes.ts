// Every error code winsmith raises, with the HTTP status the API answers and the exit code the CLI
// returns. docs/errors.md lists the same table; a test keeps the two in step.

export const ERROR_CODES = {
  USAGE: { status: 400, exit: 2, summary: 'the command line or request is not valid' },
  INVALID_ARGUMENT: { status: 400, exit: 2, summary: 'a value given is outside what is accepted' },
  FILE_NOT_FOUND: { status: 404, exit: 3, summary: 'a file or directory named does not exist' },
  NOT_FOUND: { status: 404, exit: 3, summary: 'an image, index, path, key or value named does not exist' },
  ALREADY_EXISTS: { status: 409, exit: 1, summary: 'the output already exists' },
  NOT_A_REPOSITORY: {
    status: 404,
    exit: 3,
    summary: 'the path given as the repository is not one (winsmith init PATH makes one)',
  },
  FORMAT_INVALID: { status: 422, exit: 4, summary: 'the input is corrupt or not of the expected format' },
  FORMAT_UNSUPPORTED: {
    status: 415,
    exit: 4,
    summary: 'the input is valid but uses a feature not supported',
  },
  LIMIT_EXCEEDED: { status: 413, exit: 4, summary: 'the input goes past a safety limit' },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    exit: 1,
    summary: 'the byte range asked for is not one range within the content',
  },
  HIVE_DIRTY: { status: 409, exit: 4, summary: 'a registry hive has unapplied transaction logs' },
  MISSING_PROGRAM: {
    status: 503,
    exit: 5,
    summary: 'a program winsmith runs is not installed, or a part of native/ is not built',
  },
  PROGRAM_FAILED: { status: 500, exit: 6, summary: 'a program winsmith ran reported a failure' },
  IO_ERROR: { status: 500, exit: 1, summary: 'reading or writing a file failed' },
  UNAUTHORIZED: {
    status: 401,
    exit: 7,
    summary: 'no valid credentials were given (missing, wrong or expired)',
  },
  FORBIDDEN: {
    status: 403,
    exit: 7,
    summary: 'the user is not allowed to do this (role or image-name scope)',
  },
  RATE_LIMITED: { status: 429, exit: 7, summary: 'too many attempts; wait before trying again' },
  CONFLICT: {
    status: 409,
    exit: 1,
    summary: 'the request conflicts with the current state (e.g. an upload not complete)',
  },
  UNAVAILABLE: {
    status: 503,
    exit: 5,
    summary: 'the server cannot do this now: a facility it needs is missing (FUSE), or it is busy',
  },
  TIMED_OUT: { status: 504, exit: 8, summary: 'what was waited for did not happen in the time allowed' },
  BUILD_FAILED: {
    status: 500,
    exit: 9,
    summary: 'a build VM failed: a provisioning step, a phase timeout, or the VM stopping too early',
  },
  INTERRUPTED: {
    status: 503,
    exit: 130,
    summary: 'stopped by SIGINT or SIGTERM before the end; what it made is removed',
  },
  INTERNAL: { status: 500, exit: 70, summary: 'a bug in winsmith' },
} as const satisfies Record<string, { status: number; exit: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

export function exitCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].exit;
}
