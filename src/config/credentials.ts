// Tokens `winsmith login` obtained, one per server URL, in ~/.config/winsmith/credentials.json
// ($XDG_CONFIG_HOME honoured). The file is created with mode 0600 (readable by the user only),
// replaced atomically, and refused when others can read it. A token is never printed.

import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { AppError } from '../core/errors.ts';

export interface StoredCredential {
  readonly user: string;
  readonly token: string;
  readonly expiresAt: string | null;
}

interface CredentialsFile {
  version: 1;
  servers: Record<string, StoredCredential>;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config');
  return join(base, 'winsmith', 'credentials.json');
}

async function readCredentials(path: string): Promise<CredentialsFile> {
  let text: string;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new AppError(
        'FORBIDDEN',
        `${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)})`,
        {
          hint: `run 'chmod 600 ${path}' or log in again`,
        },
      );
    }
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
    throw e;
  }
  try {
    const parsed = JSON.parse(text) as CredentialsFile;
    if (typeof parsed.servers !== 'object') throw new Error('no servers');
    return parsed;
  } catch (e) {
    throw new AppError('FORMAT_INVALID', `${path} is not a winsmith credentials file`, {
      hint: `remove it and run 'winsmith login URL' again`,
      cause: e,
    });
  }
}

/** The token stored for `url` (its public form), or null. */
export async function findCredential(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoredCredential | null> {
  const file = await readCredentials(credentialsPath(env));
  return file.servers[url] ?? null;
}

/** Stores the token for `url` (mode 0600, atomically). */
export async function saveCredential(
  url: string,
  credential: StoredCredential,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = credentialsPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const file = await readCredentials(path);
  file.servers[url] = credential;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}
