// A Session on a `winsmith server`: its images, accounts and machines over the HTTP API, as the
// user of the token given (WINSMITH_TOKEN, or what `winsmith login` stored for that server).

import type { AuditEntry, AuditPage } from '../../audit/audit-log.ts';
import type { DeploymentView, ProfileView } from '../deployments.ts';
import type { ProgressEvent } from '../../core/progress.ts';
import type { BuildView } from '../builds.ts';
import type {
  Accounts,
  Builds,
  CreatedUser,
  DeploymentPage,
  Deployments,
  IssuedToken,
  MachinePage,
  Machines,
  MachineView,
  PasswordChange,
  Profiles,
  Session,
  TokenView,
  UserView,
} from '../session.ts';
import { DEPLOYMENT_PAGE_MAX } from '../session.ts';
import { HttpClient } from './http-client.ts';
import { RemoteImages } from './remote-images.ts';
import type { TlsTrust } from './tls-trust.ts';
import { watchEvents } from './server-events.ts';

function userPath(name: string): string {
  return `/api/v1/users/${encodeURIComponent(name)}`;
}

function machinePath(key: string): string {
  return `/api/v1/machines/${encodeURIComponent(key)}`;
}

function profilePath(name: string): string {
  return `/api/v1/profiles/${encodeURIComponent(name)}`;
}

function deploymentPath(id: string): string {
  return `/api/v1/deployments/${encodeURIComponent(id)}`;
}

function buildPath(id: string): string {
  return `/api/v1/builds/${encodeURIComponent(id)}`;
}

function withQuery(path: string, query: URLSearchParams): string {
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

export function remoteSession(url: string, token: string | null, trust?: TlsTrust): Session {
  const http = new HttpClient(url, token, trust);
  const accounts: Accounts = {
    addUser: (request) => http.json<CreatedUser>('POST', '/api/v1/users', request),
    listUsers: async () => (await http.json<{ users: UserView[] }>('GET', '/api/v1/users')).users,
    showUser: (name) => http.json<UserView>('GET', userPath(name)),
    changeUser: (name, changes) => http.json<UserView>('PATCH', userPath(name), changes),
    setPassword: (name, request) => http.json<PasswordChange>('PUT', `${userPath(name)}/password`, request),
    async removeUser(name) {
      await http.request('DELETE', userPath(name));
    },
    createToken: (request) => http.json<IssuedToken>('POST', '/api/v1/tokens', request),
    async listTokens(filter) {
      const query = new URLSearchParams();
      if (filter.all === true) query.set('all', 'true');
      if (filter.user !== undefined) query.set('user', filter.user);
      return (await http.json<{ tokens: TokenView[] }>('GET', withQuery('/api/v1/tokens', query))).tokens;
    },
    async revokeToken(id) {
      await http.request('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
    },
    listAudit: async (limit) =>
      (await http.json<{ entries: AuditEntry[] }>('GET', `/api/v1/audit?limit=${limit}`)).entries,
    async auditPage(query) {
      const params = new URLSearchParams();
      if (query.limit !== undefined) params.set('limit', String(query.limit));
      if (query.beforeId !== undefined) params.set('before', String(query.beforeId));
      for (const key of ['actor', 'action', 'target', 'since', 'until'] as const) {
        const value = query[key];
        if (value !== undefined) params.set(key, value);
      }
      return http.json<AuditPage>('GET', withQuery('/api/v1/audit', params));
    },
  };
  const machines: Machines = {
    listPage(page) {
      const query = new URLSearchParams({ limit: String(page.limit) });
      if (page.state !== undefined) query.set('state', page.state);
      if (page.label !== undefined) query.set('label', page.label);
      if (page.cursor !== null) query.set('cursor', page.cursor);
      return http.json<MachinePage<MachineView>>('GET', withQuery('/api/v1/machines', query));
    },
    get: (key) => http.json<MachineView>('GET', machinePath(key)),
    add: (request) => http.json<MachineView>('POST', '/api/v1/machines', request),
    set: (key, changes) => http.json<MachineView>('PATCH', machinePath(key), changes),
    async remove(key) {
      await http.request('DELETE', machinePath(key));
    },
    approve: (key) => http.json<MachineView>('POST', `${machinePath(key)}/approve`),
    password: (key) =>
      http.json<{ machine: string; deployment: string; password: string }>(
        'GET',
        `${machinePath(key)}/password`,
      ),
  };
  const profiles: Profiles = {
    apply: (yaml, file) => http.json<ProfileView>('POST', '/api/v1/profiles', { yaml, file }),
    edit: (name, yaml, file) => http.json<ProfileView>('PUT', profilePath(name), { yaml, file }),
    list: async () => (await http.json<{ profiles: ProfileView[] }>('GET', '/api/v1/profiles')).profiles,
    show: (name) => http.json<ProfileView & { yaml: string }>('GET', profilePath(name)),
    async remove(name) {
      await http.request('DELETE', profilePath(name));
    },
  };
  const deployments: Deployments = {
    create: (request) => http.json<DeploymentView>('POST', '/api/v1/deployments', request),
    capture: (request) => http.json<DeploymentView>('POST', '/api/v1/captures', request),
    createMulticast: async (request) =>
      (await http.json<{ deployments: DeploymentView[] }>('POST', '/api/v1/deployments/multicast', request))
        .deployments,
    async list(filter) {
      return (await deployments.listPage({ ...filter, limit: DEPLOYMENT_PAGE_MAX, cursor: null }))
        .deployments;
    },
    listPage(page) {
      const query = new URLSearchParams({ limit: String(page.limit) });
      if (page.machine !== undefined) query.set('machine', page.machine);
      if (page.active !== undefined) query.set('active', String(page.active));
      if (page.cursor !== null) query.set('cursor', page.cursor);
      return http.json<DeploymentPage>('GET', withQuery('/api/v1/deployments', query));
    },
    show: (id) => http.json<DeploymentView>('GET', deploymentPath(id)),
    logs: async (id, after) =>
      (
        await http.json<{ lines: { id: number; at: string; line: string }[] }>(
          'GET',
          `${deploymentPath(id)}/logs?after=${after}`,
        )
      ).lines,
    cancel: (id) => http.json<DeploymentView>('POST', `${deploymentPath(id)}/cancel`),
    retry: (id) => http.json<DeploymentView>('POST', `${deploymentPath(id)}/retry`),
    watch: (onChange, signal) =>
      watchEvents(http, signal, (event) => {
        if (event.event === 'deployment')
          onChange((JSON.parse(event.data) as { result: DeploymentView }).result);
      }),
  };
  const builds: Builds = {
    start: (request) => http.json<BuildView>('POST', '/api/v1/builds', request),
    list: async () => (await http.json<{ builds: BuildView[] }>('GET', '/api/v1/builds')).builds,
    show: (id) => http.json<BuildView>('GET', buildPath(id)),
    logs: async (id, after) =>
      (
        await http.json<{ lines: { id: number; at: string; line: string }[] }>(
          'GET',
          `${buildPath(id)}/logs?after=${after}`,
        )
      ).lines,
    serial: (id, offset) =>
      http.json<{ offset: number; next: number; text: string }>(
        'GET',
        `${buildPath(id)}/serial?offset=${offset}`,
      ),
    async screenshot(id) {
      const response = await http.request('GET', `${buildPath(id)}/screenshot`);
      return new Uint8Array(await response.arrayBuffer());
    },
    cancel: (id) => http.json<BuildView>('POST', `${buildPath(id)}/cancel`),
    resume: (id) => http.json<BuildView>('POST', `${buildPath(id)}/resume`),
    async remove(id) {
      await http.request('DELETE', buildPath(id));
    },
    watch: (onChange, signal, onProgress) =>
      watchEvents(http, signal, (event) => {
        if (event.event === 'build') onChange((JSON.parse(event.data) as { result: BuildView }).result);
        if (event.event === 'progress' && onProgress !== undefined) {
          const e = JSON.parse(event.data) as { job: string; progress: ProgressEvent };
          onProgress(e.job, e.progress);
        }
      }),
  };
  return {
    location: http.base,
    images: new RemoteImages(http),
    accounts,
    machines,
    profiles,
    deployments,
    builds,
    close: () => Promise.resolve(),
  };
}
