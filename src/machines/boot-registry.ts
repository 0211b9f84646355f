// The machine registry the boot routes ask (the port src/boot/http-boot.ts declares), on the
// machine store: machines by MAC or SMBIOS UUID, the iPXE inventory in the machine's columns and
// inventory JSON, the last check-in (time, address) kept in the inventory under `checkIn`.

import type { BootInventory, BootMachine, BootMachineRegistry } from '../boot/http-boot.ts';
import type { Machine, MachineStore } from './machine-store.ts';

/** The machine as the boot routes see it, under the MAC it booted with. */
function toBootMachine(m: Machine, mac: string): BootMachine {
  return {
    mac: m.mac ?? mac,
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

export function bootRegistryOf(machines: MachineStore): BootMachineRegistry {
  return {
    async findMachine(mac, uuid) {
      const byMac = await machines.getMachineByMac(mac);
      if (byMac !== undefined) return toBootMachine(byMac, mac);
      const byUuid = uuid === null ? undefined : await machines.getMachineByUuid(uuid);
      if (byUuid === undefined) return null;
      // A machine registered by its UUID alone takes the MAC it first boots with.
      if (byUuid.mac === null) await machines.attachMac(byUuid.id, mac);
      return toBootMachine(byUuid, mac);
    },
    async registerMachine(machine, at) {
      const { machine: stored } = await machines.recordMachineSeen({
        ...sighting(machine.mac, machine.inventory, at),
        smbiosUuid: machine.uuid,
        inventory: { source: 'ipxe' },
      });
      return toBootMachine(stored, machine.mac);
    },
    countPending: () => machines.countMachines('pending'),
    async recordScriptRequest(mac, inventory, at) {
      await machines.updateMachineSeen(sighting(mac, inventory, at));
    },
    async recordCheckIn(mac, address, at) {
      const seen = await machines.updateMachineSeen({
        mac,
        now: at.toISOString(),
        inventory: { checkIn: { at: at.toISOString(), address } },
      });
      return seen !== undefined;
    },
  };
}
