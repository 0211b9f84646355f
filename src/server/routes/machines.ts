// The routes of machines: the inventory a page at a time, filtered by state and label, one machine
// by id, MAC or name, machines registered before they boot, approved when they registered by
// booting, renamed, relabelled and removed, and the administrator password a deployment set.
// Viewers read; operators and admins change and read passwords (audited).

import { defineRoute, withoutUndefined, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import { MACHINE_PAGE_DEFAULT, MACHINE_PAGE_MAX } from '../../app/session.ts';
import { pageLimit } from '../page-limit.ts';
import {
  Machine,
  MachineChanges,
  MachinePage,
  MachinePassword,
  MachineQuery,
  NewMachine,
} from '../schemas.ts';

const KEY_PARAM = { name: 'id', in: 'path', description: "the machine's id, MAC or name" } as const;

export function machineRoutes({ backend }: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/machines',
      summary: 'the machines, oldest first, a page at a time; filtered by state and by label',
      action: 'machines.read',
      query: MachineQuery,
      ok: {
        status: 200,
        description: 'a page of machines and the cursor of the next one',
        json: MachinePage,
      },
      handler: (r) => {
        const { limit, cursor, ...filter } = r.query;
        return backend.as(r.actor).machines.listPage({
          ...withoutUndefined(filter),
          limit: pageLimit(limit, 'machines', { default: MACHINE_PAGE_DEFAULT, max: MACHINE_PAGE_MAX }),
          cursor: cursor ?? null,
        });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/machines',
      summary: 'register a machine before it boots, by MAC and/or SMBIOS UUID, with a name (ready at once)',
      action: 'machines.write',
      body: { json: NewMachine },
      ok: { status: 201, description: 'the machine', json: Machine },
      handler: (r) => backend.as(r.actor).machines.add(withoutUndefined(r.body)),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/machines/{id}',
      summary: 'one machine: identity, inventory, state, labels, deployment',
      action: 'machines.read',
      parameters: [KEY_PARAM],
      ok: { status: 200, description: 'the machine', json: Machine },
      handler: (r) => backend.as(r.actor).machines.get(r.params.id ?? ''),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/v1/machines/{id}',
      summary: "change a machine's name or labels",
      action: 'machines.write',
      parameters: [KEY_PARAM],
      body: { json: MachineChanges },
      ok: { status: 200, description: 'the machine changed', json: Machine },
      handler: (r) => backend.as(r.actor).machines.set(r.params.id ?? '', withoutUndefined(r.body)),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/machines/{id}/approve',
      summary:
        'approve a machine that registered itself by booting (pending → ready): it may then be deployed',
      action: 'machines.write',
      parameters: [KEY_PARAM],
      ok: { status: 200, description: 'the machine, ready', json: Machine },
      handler: (r) => backend.as(r.actor).machines.approve(r.params.id ?? ''),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/machines/{id}/password',
      summary: "the administrator password the machine's last deployment set (the read is audited)",
      action: 'secrets.read',
      parameters: [KEY_PARAM],
      ok: { status: 200, description: 'the password and the deployment that set it', json: MachinePassword },
      async handler(r) {
        r.c.header('cache-control', 'no-store');
        return backend.as(r.actor).machines.password(r.params.id ?? '');
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/machines/{id}',
      summary:
        'forget a machine and its deployments (it registers again, pending, when it next boots); not while a deployment is under way',
      action: 'machines.write',
      parameters: [KEY_PARAM],
      ok: { status: 204, description: 'removed' },
      async handler(r) {
        await backend.as(r.actor).machines.remove(r.params.id ?? '');
        return r.c.body(null, 204);
      },
    }),
  ];
}
