// A lab's private network: a network namespace of its own with a bridge on a random 10.x.y.1/24
// and a tap device per VM, and the programs that run inside it (a boot server, VMs, clients).
// Closing it stops those programs and deletes the namespace, and with it every link it had: no
// other network is touched, before or after.

import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { addBridge, addNetns, addTap, deleteNetns, startInNetns } from '../engines/netns.ts';
import type { RunningService, ServiceOptions } from '../engines/run.ts';

/** How long a program stopped with the network gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5000;

export interface LabNetworkOptions {
  /** Where the logs of the programs started inside go (the caller's directory; kept as it is). */
  readonly dir: string;
  /** The namespace's name is this, a hyphen and 8 random hex digits. */
  readonly prefix?: string;
}

export interface LabProcessOptions {
  /** Its output goes to DIR/<log>.log too. */
  readonly log?: string;
  /** Add to that log instead of replacing it. */
  readonly appendLog?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  /** Each line of its output, as it comes. */
  readonly onLine?: (line: string) => void;
}

export class LabNetwork {
  /** The namespace's name. */
  readonly name: string;
  readonly bridge = 'br0';
  /** The bridge's address: the servers' address on the lab network, e.g. 10.123.45.1. */
  readonly address: string;
  readonly prefixLength = 24;
  readonly dir: string;
  readonly #net: string;
  readonly #started: RunningService[] = [];
  #taps = 0;
  #closed: Promise<void> | null = null;

  private constructor(name: string, net: string, dir: string) {
    this.name = name;
    this.#net = net;
    this.address = `${net}.1`;
    this.dir = dir;
  }

  /** Makes the namespace and its bridge (deleted again if the bridge cannot be made). */
  static async open(options: LabNetworkOptions): Promise<LabNetwork> {
    const name = `${options.prefix ?? 'ws-lab'}-${randomBytes(4).toString('hex')}`;
    const network = new LabNetwork(name, `10.${randomInt(100, 250)}.${randomInt(1, 250)}`, options.dir);
    await addNetns(name);
    try {
      await addBridge(name, network.bridge, network.cidr);
    } catch (e) {
      await deleteNetns(name).catch(() => undefined);
      throw e;
    }
    return network;
  }

  /** The bridge's address with its prefix, e.g. 10.123.45.1/24. */
  get cidr(): string {
    return `${this.address}/${this.prefixLength}`;
  }

  /** The network, e.g. 10.123.45.0/24. */
  get subnet(): string {
    return `${this.#net}.0/${this.prefixLength}`;
  }

  /** An address of the network: host part `n` (2–254). */
  host(n: number): string {
    return `${this.#net}.${n}`;
  }

  /** A new tap device on the bridge, for one VM: its name. */
  async addTap(): Promise<string> {
    const tap = `tap${this.#taps++}`;
    await addTap(this.name, tap, this.bridge);
    return tap;
  }

  /**
   * Starts `command` inside the namespace, in a process group of its own (a Ctrl-C reaches the
   * caller, which stops it); stopped by close() if it still runs then.
   */
  start(command: string, args: readonly string[], options: LabProcessOptions = {}): RunningService {
    const service: ServiceOptions = {
      detached: true,
      ...(options.log === undefined ? {} : { logFile: join(this.dir, `${options.log}.log`) }),
      ...(options.appendLog === undefined ? {} : { appendLog: options.appendLog }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.onLine === undefined ? {} : { onLine: options.onLine }),
    };
    const started = startInNetns(this.name, command, args, service);
    this.#started.push(started);
    return started;
  }

  /** Stops every program started inside that still runs; the namespace stays. */
  async stopPrograms(): Promise<void> {
    await Promise.all(this.#started.map((s) => s.stop(STOP_GRACE_MS)));
  }

  /** Stops every program started inside, then deletes the namespace. Once; later calls wait for it. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.stopPrograms();
      await deleteNetns(this.name);
    })();
    return this.#closed;
  }
}
