// `--repo URL|PATH` (or WINSMITH_REPO) → a Session: an http(s) URL is a `winsmith server` (token
// from WINSMITH_TOKEN or the credentials `winsmith login` stored; its certificate checked against
// --ca or WINSMITH_CA when given), anything else a data directory worked on directly with the
// embedded defaults, acting as the local user. A data directory is a repository once `winsmith
// init` (or `push --init`) made its catalog; no other command makes one, so a mistyped path is an
// error, not a new empty repository.

import { readdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { findCredential } from '../config/credentials.ts';
import { AppError } from '../core/errors.ts';
import { statOrNull } from '../io/paths.ts';
import { LocalApp } from './local-app.ts';
import { publicUrl } from './remote/http-client.ts';
import { remoteSession } from './remote/remote-session.ts';
import { loadTrust, type TrustOptions } from './remote/tls-trust.ts';
import type { Actor, Session } from './session.ts';

export function isRemoteSpec(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

/** The actor of CLI commands on a data directory, for the audit log. */
export function localActor(): Actor {
  return { user: `local:${userInfo().username}`, client: 'local' };
}

/** The file whose presence makes a directory a repository. */
export const CATALOG_FILE = 'catalog.sqlite';

/** `host:port` (or `host:port/path`) with no scheme: a server address missing its `http://`. */
function looksLikeHostPort(spec: string): boolean {
  return (
    /^[a-z0-9.-]+:[0-9]{1,5}(?:\/.*)?$/i.test(spec) || /^\[[0-9a-f:.]+\]:[0-9]{1,5}(?:\/.*)?$/i.test(spec)
  );
}

/** How `dir` stands as a repository: one already, a place `init` may make one, or neither (why). */
export async function repositoryState(
  dir: string,
): Promise<'repository' | 'absent' | 'empty' | { readonly notOne: string }> {
  const found = await statOrNull(dir);
  if (found === null) return 'absent';
  if (!found.isDirectory()) return { notOne: 'it is a file, not a directory' };
  const catalog = await statOrNull(join(dir, CATALOG_FILE));
  if (catalog?.isFile() === true) return 'repository';
  if ((await readdir(dir)).length === 0) return 'empty';
  return { notOne: `it is a directory with no ${CATALOG_FILE}` };
}

/**
 * Checks that `given` names a repository (or, with `init`, a place to make one) before anything is
 * written there.
 */
async function requireRepository(label: string, given: string, dir: string, init: boolean): Promise<void> {
  const state = await repositoryState(dir);
  if (state === 'repository') return;
  if (typeof state === 'string') {
    if (init) return;
    throw new AppError(
      'NOT_A_REPOSITORY',
      `${label}: expected a repository, found ${state === 'absent' ? 'nothing there' : 'an empty directory'}`,
      { hint: `make one with 'winsmith init ${given}', or pass --init to the first push` },
    );
  }
  throw new AppError('NOT_A_REPOSITORY', `${label}: expected a repository, but ${state.notOne}`, {
    hint: 'name a repository made by winsmith init (a data directory) or a server URL (http://HOST:PORT)',
  });
}

export interface SessionOptions {
  /** How an https:// server's certificate is checked. */
  readonly trust?: TrustOptions;
  /** A data directory that is not a repository yet is made one (push --init). */
  readonly init?: boolean;
}

/** What names the repository: --repo, else WINSMITH_REPO. */
export function repositorySpec(
  spec: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return spec ?? env.WINSMITH_REPO;
}

export async function openSession(
  spec: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  options: SessionOptions = {},
): Promise<Session> {
  const given = repositorySpec(spec, env);
  if (given === undefined || given === '') {
    throw new AppError('USAGE', 'no repository given', {
      hint: 'pass --repo URL|PATH or set WINSMITH_REPO (a server URL or a data directory)',
    });
  }
  if (isRemoteSpec(given)) {
    const url = publicUrl(given);
    const token = env.WINSMITH_TOKEN ?? (await findCredential(url, env))?.token ?? null;
    return remoteSession(url, token, await loadTrust(options.trust ?? {}, env));
  }
  const label = spec === undefined ? `WINSMITH_REPO=${given}` : `--repo ${given}`;
  if (looksLikeHostPort(given)) {
    throw new AppError(
      'USAGE',
      `${label}: expected a server URL or a directory, found host:port with no scheme`,
      {
        hint: `did you mean http://${given}?`,
      },
    );
  }
  const dir = resolve(given);
  await requireRepository(label, given, dir, options.init === true);
  const app = await LocalApp.openDataDir(dir);
  return app.as(localActor());
}

/**
 * Makes a repository (a data directory: catalog, blob folder, secrets key) at `path`: a new or empty
 * directory. A repository there already is left as it is (`created` false).
 */
export async function initRepository(
  path: string,
): Promise<{ readonly dir: string; readonly created: boolean }> {
  const dir = resolve(path);
  const state = await repositoryState(dir);
  if (state === 'repository') return { dir, created: false };
  if (typeof state !== 'string') {
    throw new AppError(
      'NOT_A_REPOSITORY',
      `${path}: expected a new or empty directory, but ${state.notOne}`,
      {
        hint: 'choose a new or empty directory for the repository',
      },
    );
  }
  const app = await LocalApp.openDataDir(dir);
  await app.close();
  return { dir, created: true };
}

/** Runs `fn` on the session `spec` names, and closes it whatever happens. */
export async function withSession<T>(
  spec: string | undefined,
  fn: (session: Session) => Promise<T>,
  options: SessionOptions = {},
): Promise<T> {
  const session = await openSession(spec, process.env, options);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
