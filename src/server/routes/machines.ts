// The routes of machines: the inventory filtered by state and label, one machine by id, MAC or
// name, machines registered before they boot, renamed, relabelled and removed. Viewers read;
// operators and admins change.

import { defineRoute, withoutUndefined, type ApiRoute } from '../routes.ts';
import type { RouteContext } from '../backend.ts';
import { Machine, MachineChanges, MachineList, MachineQuery, NewMachine } from '../schemas.ts';

const KEY_PARAM = { name: 'id', in: 'path', description: "the machine's id, MAC or name" } as const;

export function machineRoutes({ backend }: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/machines',
      summary: 'the machines, oldest first; filtered by state and by label',
      action: 'machines.read',
      query: MachineQuery,
      ok: { status: 200, description: 'the machines', json: MachineList },
      handler: async (r) => ({
        machines: await backend.as(r.actor).machines.list(withoutUndefined(r.query)),
      }),
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
      method: 'DELETE',
      path: '/api/v1/machines/{id}',
      summary: 'forget a machine (it registers again, pending, when it next boots)',
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
