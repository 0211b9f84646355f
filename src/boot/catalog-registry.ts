// The boot routes' machines store on the catalog: machines by MAC or SMBIOS UUID, the iPXE
// inventory in the machine's columns and inventory JSON, the last check-in (time, address) kept in
// the inventory under `checkIn`.

import type { Catalog, Machine } from '../store/catalog/catalog.ts';
import type { BootInventory, BootMachine, BootMachineRegistry } from './http-boot.ts';

function toBootMachine(m: Machine): BootMachine {
  return {
    mac: m.mac,
    uuid: m.smbiosUuid,
    inventory: {
      serial: m.serial,
      manufacturer: m.manufacturer,
      product: m.product,
      buildarch: m.arch,
      platform: m.platform,
    },
    deployment: m.deploymentId,
  };
}

function sighting(mac: string, inventory: BootInventory, at: Date) {
  return {
    mac,
    serial: inventory.serial,
    manufacturer: inventory.manufacturer,
    product: inventory.product,
    arch: inventory.buildarch,
    platform: inventory.platform,
    now: at.toISOString(),
  };
}

export function catalogBootRegistry(catalog: Catalog): BootMachineRegistry {
  return {
    async findMachine(mac, uuid) {
      const machine =
        (await catalog.getMachineByMac(mac)) ??
        (uuid === null ? undefined : await catalog.getMachineByUuid(uuid));
      return machine === undefined ? null : toBootMachine(machine);
    },
    async registerMachine(machine, at) {
      const { machine: stored } = await catalog.recordMachineSeen({
        ...sighting(machine.mac, machine.inventory, at),
        smbiosUuid: machine.uuid,
        inventory: { source: 'ipxe' },
      });
      return toBootMachine(stored);
    },
    countPending: () => catalog.countMachines('pending'),
    async recordScriptRequest(mac, inventory, at) {
      await catalog.updateMachineSeen(sighting(mac, inventory, at));
    },
    async recordCheckIn(mac, address, at) {
      const seen = await catalog.updateMachineSeen({
        mac,
        now: at.toISOString(),
        inventory: { checkIn: { at: at.toISOString(), address } },
      });
      return seen !== undefined;
    },
  };
}
