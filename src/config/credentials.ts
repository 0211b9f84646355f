// Tokens `winsmith login` obtained, one per server origin, in ~/.config/winsmith/credentials.json
// ($XDG_CONFIG_HOME honoured): https://HOST:8443/, https://host:8443 and HTTPS://Host:8443 are one
// server, and so are https://host:443 and https://host. The file is created with mode 0600 (readable by the user only),
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

/**
 * The key a server's token is kept under: its origin, scheme and host in lower case, the default
 * port (:443 for https, :80 for http) left out, the path ignored.
 */
export function serverOrigin(url: string): string {
  const parsed = URL.parse(url);
  if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:') {
    throw new AppError('INVALID_ARGUMENT', 'the server URL is not a valid http(s) URL', {
      hint: 'give it as http://HOST:PORT or https://HOST',
    });
  }
  return parsed.origin;
}

/** The token stored for the server `url` names, or null (a key another spelling wrote counts). */
export async function findCredential(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoredCredential | null> {
  const { servers } = await readCredentials(credentialsPath(env));
  const origin = serverOrigin(url);
  return servers[origin] ?? Object.entries(servers).find(([key]) => sameOrigin(key, origin))?.[1] ?? null;
}

function sameOrigin(key: string, origin: string): boolean {
  return URL.parse(key)?.origin === origin;
}

/** Stores the token for the server `url` names, in place of any other spelling's (mode 0600, atomically). */
export async function saveCredential(
  url: string,
  credential: StoredCredential,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = credentialsPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const file = await readCredentials(path);
  const origin = serverOrigin(url);
  for (const key of Object.keys(file.servers))
    if (sameOrigin(key, origin)) Reflect.deleteProperty(file.servers, key);
  file.servers[origin] = credential;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}
