// Machines as an operator manages them: listed and filtered, found by id, MAC or name,
// registered before they boot, renamed, relabelled and removed, each change recorded under the
// actor that made it and announced as an event (so is a machine that registers itself by
// network-booting: src/app/boot-registry.ts).

import { AppError } from '../core/errors.ts';
import type { Machine, MachineStore } from '../machines/machine-store.ts';
import type { Recorder } from './audit-trail.ts';
import type { EventHub, JobAudience } from './events.ts';
import type { Actor, Machines, MachineView } from './session.ts';
import type { DeploymentService } from './deployments.ts';

/** Machines are no image's: whoever may read machines sees their events. */
const MACHINE_AUDIENCE: JobAudience = { action: 'machines.read', image: null };

/** Publishes `machine` as it now is, or (`machine-removed`) its id once it is gone. */
export function announceMachine(
  events: EventHub,
  machine: MachineView | { readonly id: string },
  kind: 'machine' | 'machine-removed' = 'machine',
): void {
  events.publish({ job: `machine-${machine.id}`, audience: MACHINE_AUDIENCE, kind, result: machine });
}

export function machinesFor(
  store: MachineStore,
  deployments: DeploymentService,
  events: EventHub,
  actor: Actor,
  record: Recorder,
): Machines {
  const view = async (machine: Machine): Promise<MachineView> => {
    const active = await deployments.activeFor(machine.id);
    return { ...machine, deployment: active };
  };
  /** The machine's view, announced. */
  const changed = async (machine: Machine): Promise<MachineView> => {
    const shown = await view(machine);
    announceMachine(events, shown);
    return shown;
  };
  const find = async (key: string): Promise<Machine> => {
    const machine = await store.findMachine(key);
    if (machine === undefined) {
      throw new AppError('NOT_FOUND', `no machine ${JSON.stringify(key.slice(0, 80))}`, {
        hint: "list machines with 'winsmith machines'",
      });
    }
    return machine;
  };
  return {
    async listPage(query) {
      const page = await store.listMachinePage(query);
      const active = await deployments.activeByMachine();
      return {
        ...page,
        machines: page.machines.map((m) => ({ ...m, deployment: active.get(m.id) ?? null })),
      };
    },
    get: async (key) => view(await find(key)),
    async add(request) {
      const machine = await store.addMachine(request);
      await record('machine.add', machine.id, {
        name: machine.name,
        mac: machine.mac,
        smbiosUuid: machine.smbiosUuid,
        labels: machine.labels,
      });
      return changed(machine);
    },
    async set(key, changes) {
      const machine = await store.updateMachine((await find(key)).id, changes);
      await record('machine.set', machine.id, { ...changes });
      return changed(machine);
    },
    async remove(key) {
      const machine = await find(key);
      const active = await deployments.activeFor(machine.id);
      if (active !== null) {
        throw new AppError(
          'CONFLICT',
          `machine ${key} has deployment ${active.id} under way (${active.state})`,
          {
            hint: `cancel it first: 'winsmith deployment cancel ${active.id}'`,
          },
        );
      }
      await store.deleteMachine(machine.id);
      await record('machine.remove', machine.id, { name: machine.name, mac: machine.mac });
      announceMachine(events, { id: machine.id }, 'machine-removed');
    },
    approve: async (key) => changed(await deployments.approve(actor, key)),
    password: (key) => deployments.machinePassword(actor, key),
  };
}
