// A signed-in user in this tab: their name, the token the server issued at login (kept in this
// tab's sessionStorage only: it survives a reload, not the tab, and is never in a URL), and what
// their role allows, which decides the buttons the console shows. The API refuses anything else
// anyway: the buttons only spare a user the refusal.
import { createApi } from './api.ts';
import type { Caller, IssuedToken } from './api-types.ts';

export interface Abilities {
  /** deploy.run: start, cancel and retry deployments. */
  readonly deploy: boolean;
  /** machines.write: approve machines. */
  readonly approve: boolean;
  /** image.build: cancel and resume builds. */
  readonly build: boolean;
  /** users.manage: users, everyone's tokens. */
  readonly manageUsers: boolean;
  /** audit.read: the audit log. */
  readonly readAudit: boolean;
  /** profiles.write: edit profiles. */
  readonly editProfiles: boolean;
}

export interface Session {
  readonly user: string;
  readonly token: string;
  readonly can: Abilities;
}

const STORAGE_KEY = 'winsmith.session';

/** What the caller's role allows, as GET /api/v1/me lists it. */
function abilitiesOf(caller: Caller): Abilities {
  const actions = new Set(caller.actions);
  return {
    deploy: actions.has('deploy.run'),
    approve: actions.has('machines.write'),
    build: actions.has('image.build'),
    manageUsers: actions.has('users.manage'),
    readAudit: actions.has('audit.read'),
    editProfiles: actions.has('profiles.write'),
  };
}

/** Exchanges a user name and password for a token (POST /api/v1/login), and learns what the role allows. */
export async function logIn(user: string, password: string): Promise<Session> {
  const issued = await createApi(null, () => undefined).post<IssuedToken>('/api/v1/login', {
    user,
    password,
  });
  const caller = await createApi(issued.token, () => undefined).get<Caller>('/api/v1/me');
  const session = { user: caller.name, token: issued.token, can: abilitiesOf(caller) };
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
