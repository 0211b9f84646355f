// A signed-in user in this tab: their name, the token the server issued at login (kept in this
// tab's sessionStorage only: it survives a reload, not the tab, and is never in a URL), and what
// their role allows, which decides the buttons the console shows. The API refuses anything else
// anyway: the buttons only spare a user the refusal.
import { ApiError, createApi, type Api } from './api.ts';
import type { IssuedToken } from './api-types.ts';

export interface Abilities {
  /** deploy.run: start, cancel and retry deployments. */
  readonly deploy: boolean;
  /** machines.write: approve machines. */
  readonly approve: boolean;
  /** image.build: cancel and resume builds. */
  readonly build: boolean;
}

export interface Session {
  readonly user: string;
  readonly token: string;
  readonly can: Abilities;
}

const STORAGE_KEY = 'winsmith.session';

/**
 * Whether the caller's role allows the action of the POST at `path`. The server checks the role
 * before it reads the body: an empty body is refused as FORBIDDEN when the role may not, and as a
 * bad request (nothing done) when it may. The API has no route that names the caller's role.
 */
async function roleAllows(api: Api, path: string): Promise<boolean> {
  try {
    await api.post(path, {});
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'FORBIDDEN') return false;
    if (e instanceof ApiError && e.status === 400) return true;
    throw e;
  }
}

export async function abilitiesOf(api: Api): Promise<Abilities> {
  const [deploy, approve, build] = await Promise.all([
    roleAllows(api, '/api/v1/deployments'),
    roleAllows(api, '/api/v1/machines'),
    roleAllows(api, '/api/v1/builds'),
  ]);
  return { deploy, approve, build };
}

/** Exchanges a user name and password for a token (POST /api/v1/login), and learns what the role allows. */
export async function logIn(user: string, password: string): Promise<Session> {
  const issued = await createApi(null, () => undefined).post<IssuedToken>('/api/v1/login', {
    user,
    password,
  });
  const can = await abilitiesOf(createApi(issued.token, () => undefined));
  const session = { user, token: issued.token, can };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return session;
}

export function storedSession(): Session | null {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (text === null) return null;
  try {
    return JSON.parse(text) as Session;
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
    return null;
  }
}

export function forgetSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
