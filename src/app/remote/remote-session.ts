// A Session on a `winsmith server`: its images, accounts and machines over the HTTP API, as the
// user of the token given (WINSMITH_TOKEN, or what `winsmith login` stored for that server).

import type { AuditEntry } from '../../audit/audit-log.ts';
import type { Machine } from '../../machines/machine-store.ts';
import type { Accounts, CreatedUser, IssuedToken, Machines, Session, UserView } from '../session.ts';
import { HttpClient } from './http-client.ts';
import { RemoteImages } from './remote-images.ts';

function machinePath(key: string): string {
  return `/api/v1/machines/${encodeURIComponent(key)}`;
}

export function remoteSession(url: string, token: string | null): Session {
  const http = new HttpClient(url, token);
  const accounts: Accounts = {
    addUser: (request) => http.json<CreatedUser>('POST', '/api/v1/users', request),
    listUsers: async () => (await http.json<{ users: UserView[] }>('GET', '/api/v1/users')).users,
    createToken: (request) => http.json<IssuedToken>('POST', '/api/v1/tokens', request),
    listAudit: async (limit) =>
      (await http.json<{ entries: AuditEntry[] }>('GET', `/api/v1/audit?limit=${limit}`)).entries,
  };
  const machines: Machines = {
    async list(filter) {
      const query = new URLSearchParams();
      if (filter.state !== undefined) query.set('state', filter.state);
      if (filter.label !== undefined) query.set('label', filter.label);
      const text = query.toString();
      return (
        await http.json<{ machines: Machine[] }>('GET', `/api/v1/machines${text === '' ? '' : `?${text}`}`)
      ).machines;
    },
    get: (key) => http.json<Machine>('GET', machinePath(key)),
    add: (request) => http.json<Machine>('POST', '/api/v1/machines', request),
    set: (key, changes) => http.json<Machine>('PATCH', machinePath(key), changes),
    async remove(key) {
      await http.request('DELETE', machinePath(key));
    },
  };
  return {
    location: http.base,
    images: new RemoteImages(http),
    accounts,
    machines,
    close: () => Promise.resolve(),
  };
}
