// Machines as an operator manages them: listed and filtered, found by id, MAC or name,
// registered before they boot, renamed, relabelled and removed, each change recorded under the
// actor that made it.

import { AppError } from '../core/errors.ts';
import type { MachineStore } from '../machines/machine-store.ts';
import type { Recorder } from './audit-trail.ts';
import type { Machines } from './session.ts';

export function machinesFor(store: MachineStore, record: Recorder): Machines {
  const find = async (key: string) => {
    const machine = await store.findMachine(key);
    if (machine === undefined) {
      throw new AppError('NOT_FOUND', `no machine ${JSON.stringify(key.slice(0, 80))}`, {
        hint: "list machines with 'winsmith machines'",
      });
    }
    return machine;
  };
  return {
    list: (filter) => store.listMachines(filter),
    get: find,
    async add(request) {
      const machine = await store.addMachine(request);
      await record('machine.add', machine.id, {
        name: machine.name,
        mac: machine.mac,
        smbiosUuid: machine.smbiosUuid,
        labels: machine.labels,
      });
      return machine;
    },
    async set(key, changes) {
      const machine = await store.updateMachine((await find(key)).id, changes);
      await record('machine.set', machine.id, { ...changes });
      return machine;
    },
    async remove(key) {
      const machine = await find(key);
      await store.deleteMachine(machine.id);
      await record('machine.remove', machine.id, { name: machine.name, mac: machine.mac });
    },
  };
}
