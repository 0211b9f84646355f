// The routes of accounts: users (admins; one's own password for everyone, giving the current
// one), API tokens (one's own; an admin's for anyone), and the audit log (admins).

import { authorize, ROLE_ACTIONS } from '../../auth/roles.ts';
import { AppError } from '../../core/errors.ts';
import { defineRoute, withoutUndefined, type ApiRoute, type RouteRequest } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import {
  AuditList,
  AuditQuery,
  Caller,
  CreatedUser,
  IssuedToken,
  NewUserRequest,
  PasswordChange,
  PasswordRequest,
  TokenList,
  TokenQuery,
  TokenRequest,
  UserChangeRequest,
  UserList,
  UserView,
} from '../schemas.ts';

const USER_PARAM = { name: 'name', in: 'path', description: 'the user name' } as const;

/** Whether the caller manages users (an admin): it may then act on anyone's tokens and password. */
function managesUsers(r: RouteRequest): boolean {
  return authorize(r.principal, 'users.manage');
}

export function accountRoutes({ backend }: RouteContext): ApiRoute[] {
  const nameOf = (r: RouteRequest): string => r.params.name ?? '';
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/me',
      summary: 'the caller: name, role, scopes and the actions its role allows',
      // Every role has tokens.own: any signed-in caller.
      action: 'tokens.own',
      ok: { status: 200, description: 'the caller', json: Caller },
      handler(r) {
        const principal = r.principal;
        if (principal === undefined)
          throw new AppError('UNAUTHORIZED', 'a signed-in caller was expected, and none was found');
        return {
          name: principal.name,
          role: principal.role,
          scopes: principal.scopes,
          actions: [...ROLE_ACTIONS[principal.role]],
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/users',
      summary: 'the users, their roles and scopes',
      action: 'users.manage',
      ok: { status: 200, description: 'the users', json: UserList },
      handler: async (r) => ({ users: await backend.as(r.actor).accounts.listUsers() }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/users',
      summary: 'add a user (a password is generated and returned once when none is given)',
      action: 'users.manage',
      body: { json: NewUserRequest },
      ok: { status: 201, description: 'the user, with its password only when generated', json: CreatedUser },
      handler: (r) => backend.as(r.actor).accounts.addUser(withoutUndefined(r.body)),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/users/{name}',
      summary: 'one user: role, scopes, whether disabled, when made and changed',
      action: 'users.manage',
      parameters: [USER_PARAM],
      ok: { status: 200, description: 'the user', json: UserView },
      handler: (r) => backend.as(r.actor).accounts.showUser(nameOf(r)),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/v1/users/{name}',
      summary:
        "change a user's role, scopes or state (disabled: its tokens stop working at once); the last enabled admin stays",
      action: 'users.manage',
      parameters: [USER_PARAM],
      body: { json: UserChangeRequest },
      ok: { status: 200, description: 'the user as it now is', json: UserView },
      handler: (r) => backend.as(r.actor).accounts.changeUser(nameOf(r), withoutUndefined(r.body)),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/users/{name}',
      summary: 'remove a user and their tokens (not the last enabled admin)',
      action: 'users.manage',
      parameters: [USER_PARAM],
      ok: { status: 204, description: 'removed' },
      async handler(r) {
        await backend.as(r.actor).accounts.removeUser(nameOf(r));
        return r.c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/users/{name}/password',
      summary:
        "set a password: one's own giving the current one, or (admins) anyone's; generated and returned once when none is given",
      action: 'password.own',
      parameters: [USER_PARAM],
      body: { json: PasswordRequest },
      ok: {
        status: 200,
        description: 'the user, with the password only when generated',
        json: PasswordChange,
      },
      handler(r) {
        const name = nameOf(r);
        if (name !== r.actor.user && !managesUsers(r)) {
          throw new AppError('FORBIDDEN', `user ${r.actor.user} may change only their own password`, {
            hint: 'ask an admin to reset it',
          });
        }
        if (name === r.actor.user && r.body.currentPassword === undefined) {
          throw new AppError('USAGE', "a change of one's own password takes the current one", {
            hint: 'send currentPassword (winsmith user passwd NAME --current)',
          });
        }
        return backend.as(r.actor).accounts.setPassword(name, withoutUndefined(r.body));
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/tokens',
      summary: "create an API token (one's own; an admin's for anyone); shown this once",
      action: 'tokens.own',
      body: { json: TokenRequest },
      ok: { status: 201, description: 'the token and its expiry', json: IssuedToken },
      handler(r) {
        const user = r.body.user ?? r.actor.user;
        if (user !== r.actor.user && r.principal?.role !== 'admin') {
          throw new AppError('FORBIDDEN', `user ${r.actor.user} may create tokens only for themselves`, {
            hint: 'leave out user, or ask an admin',
          });
        }
        return backend.as(r.actor).accounts.createToken(withoutUndefined({ ...r.body, user }));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/tokens',
      summary:
        "API tokens, newest first: name, owner, scopes, expiry, last use, state (never the secret); one's own, or (admins) all=true or user=NAME",
      action: 'tokens.own',
      query: TokenQuery,
      ok: { status: 200, description: 'the tokens', json: TokenList },
      async handler(r) {
        const all = r.query.all === 'true';
        const user = r.query.user ?? r.actor.user;
        if ((all || user !== r.actor.user) && !managesUsers(r)) {
          throw new AppError('FORBIDDEN', `user ${r.actor.user} may list only their own tokens`, {
            hint: 'leave out all and user, or ask an admin',
          });
        }
        return { tokens: await backend.as(r.actor).accounts.listTokens(all ? { all } : { user }) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/tokens/{id}',
      summary: "revoke a token (one's own; an admin's: anyone's): refused from the next request on",
      action: 'tokens.own',
      parameters: [{ name: 'id', in: 'path', description: 'the token id, as the listing gives it' }],
      ok: { status: 204, description: 'revoked' },
      async handler(r) {
        await backend
          .as(r.actor)
          .accounts.revokeToken(r.params.id ?? '', managesUsers(r) ? undefined : r.actor.user);
        return r.c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/audit',
      summary:
        'the audit log, newest first, a page at a time: who changed what, when, from where; narrowed by actor, action, target and time',
      action: 'audit.read',
      query: AuditQuery,
      ok: { status: 200, description: 'the entries', json: AuditList },
      handler(r) {
        const { limit, before, since, until, ...names } = r.query;
        return backend.as(r.actor).accounts.auditPage(
          withoutUndefined({
            ...names,
            // The audit log gives at most a page of its own whatever is asked.
            limit: limit === undefined ? undefined : Number(limit),
            beforeId: before === undefined ? undefined : Number(before),
            since: since === undefined ? undefined : new Date(since).toISOString(),
            until: until === undefined ? undefined : new Date(until).toISOString(),
          }),
        );
      },
    }),
  ];
}
