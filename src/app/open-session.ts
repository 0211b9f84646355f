// `--repo URL|PATH` (or WINSMITH_REPO) → a Session: an http(s) URL is a `winsmith server` (token
// from WINSMITH_TOKEN or the credentials `winsmith login` stored; its certificate checked against
// --ca or WINSMITH_CA when given), anything else a data directory worked on directly with the
// embedded defaults, acting as the local user.

import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { findCredential } from '../config/credentials.ts';
import { AppError } from '../core/errors.ts';
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

export async function openSession(
  spec: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  trust: TrustOptions = {},
): Promise<Session> {
  const given = spec ?? env.WINSMITH_REPO;
  if (given === undefined || given === '') {
    throw new AppError('USAGE', 'no repository given', {
      hint: 'pass --repo URL|PATH or set WINSMITH_REPO (a server URL or a data directory)',
    });
  }
  if (isRemoteSpec(given)) {
    const url = publicUrl(given);
    const token = env.WINSMITH_TOKEN ?? (await findCredential(url, env))?.token ?? null;
    return remoteSession(url, token, await loadTrust(trust, env));
  }
  const app = await LocalApp.openDataDir(resolve(given));
  return app.as(localActor());
}

/** Runs `fn` on the session `spec` names, and closes it whatever happens. */
export async function withSession<T>(
  spec: string | undefined,
  fn: (session: Session) => Promise<T>,
  trust: TrustOptions = {},
): Promise<T> {
  const session = await openSession(spec, process.env, trust);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
