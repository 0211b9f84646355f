// The machine registry the boot routes ask (the port src/boot/http-boot.ts declares), on the
// machine store and the deployments: machines by MAC or SMBIOS UUID, the iPXE inventory in the
// machine's columns and inventory JSON, the last check-in (time, address) kept in the inventory
// under `checkIn` (with the Secure Boot state GRUB saw, under `secureBoot`), and each machine's
// deployment under way, started once by its boot script. A machine that registers itself is
// announced as an event, as the operator's changes are (src/app/machines.ts).

import type { BootInventory, BootMachine, BootMachineRegistry } from '../boot/http-boot.ts';
import {
  SECURE_BOOT_KEY,
  type Machine,
  type MachineSighting,
  type MachineStore,
  type SecureBootState,
} from '../machines/machine-store.ts';
import type { DeploymentService } from './deployments.ts';
import type { EventHub } from './events.ts';
import { announceMachine } from './machines.ts';

/** The machine as the boot routes see it, under the MAC it booted with, with its deployment. */
function toBootMachine(m: Machine, mac: string, deployment: string | null): BootMachine {
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
    deployment,
  };
}

/** A sighting of the machine: what its loader told (GRUB tells less than iPXE: the rest is kept). */
function sighting(mac: string, inventory: BootInventory, at: Date): MachineSighting {
  const told: { -readonly [K in keyof MachineSighting]: MachineSighting[K] } = { mac, now: at.toISOString() };
  if (inventory.serial !== null) told.serial = inventory.serial;
  if (inventory.manufacturer !== null) told.manufacturer = inventory.manufacturer;
  if (inventory.product !== null) told.product = inventory.product;
  if (inventory.buildarch !== null) told.arch = inventory.buildarch;
  if (inventory.platform !== null) told.platform = inventory.platform;
  return told;
}

export function bootRegistryOf(
  machines: MachineStore,
  deployments: DeploymentService,
  events: EventHub,
): BootMachineRegistry {
  const withDeployment = async (m: Machine, mac: string): Promise<BootMachine> =>
    toBootMachine(m, mac, (await deployments.activeFor(m.id))?.id ?? null);
  return {
    async findMachine(mac, uuid) {
      const byMac = await machines.getMachineByMac(mac);
      if (byMac !== undefined) return withDeployment(byMac, mac);
      const byUuid = uuid === null ? undefined : await machines.getMachineByUuid(uuid);
      if (byUuid === undefined) return null;
      // A machine registered by its UUID alone takes the MAC it first boots with.
      if (byUuid.mac === null) await machines.attachMac(byUuid.id, mac);
      return withDeployment(byUuid, mac);
    },
    async startDeployment(mac) {
      const machine = await machines.getMachineByMac(mac);
      return machine === undefined ? null : deployments.startForBoot(machine.id);
    },
    async isQueued(mac) {
      const machine = await machines.getMachineByMac(mac);
      return machine !== undefined && (await deployments.activeFor(machine.id))?.state === 'queued';
    },
    async registerMachine(machine, at) {
      const { machine: stored, created } = await machines.recordMachineSeen({
        ...sighting(machine.mac, machine.inventory, at),
        smbiosUuid: machine.uuid,
        inventory: { source: 'ipxe' },
      });
      if (created) announceMachine(events, { ...stored, deployment: null });
      return toBootMachine(stored, machine.mac, null);
    },
    countPending: () => machines.countMachines('pending'),
    async uefiChainInputs(mac) {
      const machine = await machines.getMachineByMac(mac);
      if (machine === undefined) return { profile: null, secureBoot: null };
      return {
        profile: await deployments.uefiChainOf(machine.id),
        secureBoot: machine.secureBoot?.on ?? null,
      };
    },
    async recordScriptRequest(mac, inventory, at) {
      await machines.updateMachineSeen(sighting(mac, inventory, at));
    },
    async recordCheckIn(mac, address, at, secureBoot) {
      const when = at.toISOString();
      const seen = await machines.updateMachineSeen({
        mac,
        now: when,
        inventory: {
          checkIn: { at: when, address },
          ...(secureBoot === undefined
            ? {}
            : { [SECURE_BOOT_KEY]: { on: secureBoot, source: 'grub', at: when } satisfies SecureBootState }),
        },
      });
      return seen !== undefined;
    },
  };
}
