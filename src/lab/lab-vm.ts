// A lab machine: a QEMU VM (TCG) on a tap of its own on the lab network's bridge, with a random MAC
// and SMBIOS UUID, that boots from the network first — SeaBIOS with the e1000's iPXE ROM, or OVMF
// with virtio-net, Secure Boot enforced or not — and has an optional virtio disk. Powered on and off as often as wanted, it
// keeps its identity, disk and UEFI variables; its serial console goes to DIR/<name>-console.log,
// one power-on after the other. A power-on ends when the guest powers off or reboots (-no-reboot),
// or when it is powered off.

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { DiskFormat } from '../engines/qemu-img.ts';
import { makeUefiVars, qemuVmArgs, randomMac, type VmFirmware } from '../engines/qemu-system.ts';
import type { RunningService, ServiceExit } from '../engines/run.ts';
import type { LabNetwork } from './lab-network.ts';

/**
 * Memory of a lab VM: the deploy environment unpacks its initramfs (about 200 MiB) into memory
 * and runs Node and wimlib there. QEMU allocates only what the guest touches.
 */
export const LAB_VM_MEMORY_MIB = 1536;

/** How long QEMU gets to end after SIGTERM before SIGKILL (it stops at once; this is slack). */
const POWER_OFF_GRACE_MS = 3000;

export interface LabVmOptions {
  /** Names its files: DIR/<name>-console.log, DIR/<name>-vars.fd. */
  readonly name: string;
  readonly firmware: VmFirmware;
  /** UEFI only: Secure Boot enforced, with Microsoft's keys. */
  readonly secureBoot?: boolean;
  readonly disk: { readonly path: string; readonly format: DiskFormat } | null;
  /** Given, or random. */
  readonly mac?: string;
  readonly uuid?: string;
  readonly memoryMiB?: number;
}

export class LabVm {
  readonly name: string;
  readonly firmware: VmFirmware;
  readonly mac: string;
  readonly uuid: string;
  readonly tap: string;
  /** Its serial console's log file. */
  readonly console: string;
  readonly #network: LabNetwork;
  readonly #args: readonly string[];
  #process: RunningService | null = null;
  #poweredOnAt = 0;

  private constructor(
    network: LabNetwork,
    options: LabVmOptions,
    identity: { mac: string; uuid: string; tap: string; args: readonly string[] },
  ) {
    this.#network = network;
    this.name = options.name;
    this.firmware = options.firmware;
    this.mac = identity.mac;
    this.uuid = identity.uuid;
    this.tap = identity.tap;
    this.#args = identity.args;
    this.console = join(network.dir, `${options.name}-console.log`);
  }

  /** A new machine on `network`, powered off: its tap device and (UEFI) its variable store. */
  static async create(network: LabNetwork, options: LabVmOptions): Promise<LabVm> {
    const tap = await network.addTap();
    const mac = options.mac ?? randomMac();
    const uuid = options.uuid ?? randomUUID();
    let uefiVars: string | null = null;
    if (options.firmware === 'uefi') {
      uefiVars = join(network.dir, `${options.name}-vars.fd`);
      await makeUefiVars(uefiVars, options.secureBoot === true);
    }
    const args = qemuVmArgs({
      firmware: options.firmware,
      tap,
      mac,
      uuid,
      memoryMiB: options.memoryMiB ?? LAB_VM_MEMORY_MIB,
      uefiVars,
      secureBoot: options.secureBoot === true,
      disk: options.disk,
    });
    return new LabVm(network, options, { mac, uuid, tap, args });
  }

  /** Starts QEMU (the machine must be off); its end is `process.exited`. */
  powerOn(): RunningService {
    if (this.#process?.running() === true) {
      throw new AppError('CONFLICT', `${this.name} is powered on already`, { hint: 'power it off first' });
    }
    this.#poweredOnAt = Date.now();
    this.#process = this.#network.start('qemu-system-x86_64', this.#args, {
      log: `${this.name}-console`,
      // The console log of a power-on after the first goes on after the one before.
      appendLog: this.#process !== null,
    });
    return this.#process;
  }

  /** Ends QEMU, as pulling the plug does; nothing when it is off. */
  async powerOff(): Promise<ServiceExit | null> {
    return this.#process === null ? null : this.#process.stop(POWER_OFF_GRACE_MS);
  }

  /** QEMU of the last power-on, or null before the first. */
  get process(): RunningService | null {
    return this.#process;
  }

  /**
   * The packets it has sent since its tap was made (the tap's receive count, read in QEMU's
   * network namespace through /proc), or null when it is off.
   */
  async sentPackets(): Promise<number | null> {
    const pid = this.#process?.running() === true ? this.#process.pid : undefined;
    if (pid === undefined) return null;
    const table = await readFile(`/proc/${String(pid)}/net/dev`, 'utf8').catch(() => '');
    const row = table.split('\n').find((l) => l.trimStart().startsWith(`${this.tap}:`));
    const packets = Number(row?.split(':')[1]?.trim().split(/\s+/)[1]);
    return Number.isFinite(packets) ? packets : null;
  }

  /** When it was last powered on (Date.now()), 0 before the first. */
  get poweredOnAt(): number {
    return this.#poweredOnAt;
  }
}
