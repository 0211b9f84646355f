// The winsmith server of a lab: `winsmith server` run as a process of its own inside the lab
// network, on the bridge's address — HTTP (API and boot routes), TFTP, and DHCP in full mode on the
// bridge, giving the addresses .100 to .199 — over a data directory. Its log (JSON lines on stderr)
// goes to DIR/server.log, and each line to whoever listens, as it comes.

import type { UefiChainSetting } from '../core/uefi-chain.ts';
import { AppError } from '../core/errors.ts';
import type { RunningService } from '../engines/run.ts';
import type { LabNetwork } from './lab-network.ts';
import { waitFor } from '../io/wait-for.ts';

/** The server's HTTP port on the bridge's address. */
export const LAB_HTTP_PORT = 8080;

/** How long the server gets to start all its services. */
const START_TIMEOUT_MS = 60_000;

/** How long it gets to stop (it ends its requests and services) before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** The messages of its log that say a service is up. */
const READY_MESSAGES = ['listening', 'tftp listening', 'dhcp listening'] as const;

/** One line of the server's log: `msg` and its fields. */
export type ServerLogLine = Readonly<Record<string, unknown>> & { readonly msg: string };

export interface LabServerOptions {
  /** The winsmith command line's entry point, run with this Node (process.execPath). */
  readonly main: string;
  readonly data: string;
  /** A directory `winsmith bootenv build` made; null: the server builds one on first need. */
  readonly bootenv: string | null;
  /** The server's --uefi-chain; absent: its default (auto). */
  readonly uefiChain?: UefiChainSetting;
  readonly onLog?: (line: ServerLogLine) => void;
}

function parseLogLine(text: string): ServerLogLine | null {
  if (!text.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const record = value as Record<string, unknown>;
    return typeof record.msg === 'string' ? (record as ServerLogLine) : null;
  } catch {
    return null;
  }
}

/** The command line of the server on `network`. */
function labServerArgs(network: LabNetwork, options: LabServerOptions): string[] {
  return [
    options.main,
    'server',
    '--data',
    options.data,
    '--listen',
    `${network.address}:${LAB_HTTP_PORT}`,
    '--tftp',
    `${network.address}:69`,
    '--dhcp',
    'full',
    '--interface',
    network.bridge,
    '--dhcp-range',
    `${network.host(100)}-${network.host(199)}`,
    ...(options.bootenv === null ? [] : ['--bootenv', options.bootenv]),
    ...(options.uefiChain === undefined ? [] : ['--uefi-chain', options.uefiChain]),
  ];
}

export class LabServer {
  /** Its URL on the lab network, e.g. http://10.123.45.1:8080. */
  readonly url: string;
  readonly service: RunningService;
  readonly #lines: ServerLogLine[];

  private constructor(url: string, service: RunningService, lines: ServerLogLine[]) {
    this.url = url;
    this.service = service;
    this.#lines = lines;
  }

  /** Starts the server and waits until HTTP, TFTP and DHCP are up (it is stopped if they are not). */
  static async start(
    network: LabNetwork,
    options: LabServerOptions,
    signal: AbortSignal,
  ): Promise<LabServer> {
    const lines: ServerLogLine[] = [];
    const service = network.start(process.execPath, labServerArgs(network, options), {
      log: 'server',
      onLine: (text) => {
        const line = parseLogLine(text);
        if (line === null) return;
        lines.push(line);
        options.onLog?.(line);
      },
    });
    const server = new LabServer(`http://${network.address}:${LAB_HTTP_PORT}`, service, lines);
    try {
      await waitFor(
        'the lab server to start HTTP, TFTP and DHCP',
        () => {
          if (!service.running()) {
            const said = service.output().trim().split('\n').slice(-5).join('\n');
            throw new AppError('PROGRAM_FAILED', `the lab's winsmith server ended as it started: ${said}`, {
              hint: `its log is ${service.logFile ?? 'not kept'}`,
            });
          }
          return READY_MESSAGES.every((m) => lines.some((l) => l.msg === m)) ? true : null;
        },
        { timeoutMs: START_TIMEOUT_MS, everyMs: 200, signal },
      );
    } catch (e) {
      await server.stop();
      throw e;
    }
    return server;
  }

  /** The lines of its log so far. */
  log(): readonly ServerLogLine[] {
    return this.#lines;
  }

  async stop(): Promise<void> {
    await this.service.stop(STOP_GRACE_MS);
  }
}
