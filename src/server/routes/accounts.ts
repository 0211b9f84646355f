// The routes of accounts: users (admins), API tokens (one's own; an admin's for anyone), and the
// audit log (admins).

import { AppError } from '../../core/errors.ts';
import { defineRoute, withoutUndefined, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import {
  AuditList,
  AuditQuery,
  CreatedUser,
  IssuedToken,
  NewUserRequest,
  TokenRequest,
  UserList,
} from '../schemas.ts';

export function accountRoutes({ backend }: RouteContext): ApiRoute[] {
  return [
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
        return backend.as(r.actor).accounts.createToken({ ...r.body, user });
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/audit',
      summary: 'the audit log, newest first: who changed what, when, from where',
      action: 'audit.read',
      query: AuditQuery,
      ok: { status: 200, description: 'the entries', json: AuditList },
      handler: async (r) => {
        // The audit log gives at most a page of its own whatever is asked.
        const limit = Math.max(1, Number(r.query.limit ?? 100));
        return { entries: await backend.as(r.actor).accounts.listAudit(limit) };
      },
    }),
  ];
}
