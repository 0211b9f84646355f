// The first admin's password of a new repository, kept in DATA/initial-admin-password (mode 0600)
// before the account is made, as Jenkins keeps its initialAdminPassword: it never goes to the log
// stream, and a start that fails after the account was made (the port is taken) loses nothing. The
// file is never replaced: a start that finds it (the account was not made, or made and the start
// failed later) uses the password in it.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { KeepPassword } from '../auth/users.ts';

export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

export function initialPasswordPath(dataDir: string): string {
  return join(dataDir, INITIAL_ADMIN_PASSWORD_FILE);
}

/** Writes the generated password to `file` unless it exists; the password in the file either way. */
export function keepInFile(file: string): KeepPassword {
  return async (generated) => {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    try {
      await writeFile(file, `${generated}\n`, { flag: 'wx', mode: 0o600 });
      return generated;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new AppError('IO_ERROR', `cannot write the first admin's password to ${file}`, {
          hint: 'the server needs to write into its data directory: check its owner and mode',
          cause: e,
        });
      }
    }
    const kept = (await readFile(file, 'utf8')).trim();
    if (kept === '') {
      throw new AppError('INVALID_ARGUMENT', `${file} is empty; expected the first admin's password`, {
        hint: 'remove the file: the next start writes a new password into it',
      });
    }
    return kept;
  };
}
