// QMP, the QEMU Machine Protocol: JSON objects, one a line, over the VM's Unix socket. QEMU greets
// ({"QMP": …}), the client leaves negotiation mode (qmp_capabilities), then sends commands
// ({"execute", "arguments", "id"}) answered in order ({"return"} or {"error"}) between which QEMU
// sends events ({"event", "data"}). winsmith uses it to watch build VMs: screenshots, events
// (SHUTDOWN, RESET), keys, power. Documented in QEMU's docs/interop/qmp-spec.

import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../core/errors.ts';

/** A line longer than this is not QMP: the connection is dropped. */
const MAX_LINE_BYTES = 4 * 1024 * 1024;

export interface QmpEvent {
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
}

interface Pending {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

function qmpError(message: string): AppError {
  return new AppError('PROGRAM_FAILED', message, {
    hint: 'the VM ended or its QEMU does not answer; see its serial log',
  });
}

export class QmpClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(e: QmpEvent) => void>();
  #buffer = '';
  #nextId = 1;
  #closed: Error | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#fail(qmpError('the QMP connection closed'));
        resolve();
      });
    });
    socket.on('error', (e) => this.#fail(qmpError(`the QMP connection failed: ${e.message}`)));
    socket.on('data', (chunk: string) => this.#receive(chunk));
  }

  /**
   * Connects to a VM's QMP socket (retrying while QEMU starts and creates it, up to `timeoutMs`)
   * and leaves negotiation mode.
   */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => {
            s.off('error', reject);
            resolve(s);
          });
          s.once('error', reject);
        });
        const client = new QmpClient(socket);
        await client.#greeting();
        await client.execute('qmp_capabilities');
        return client;
      } catch (e) {
        if (Date.now() >= deadline) throw qmpError(`cannot open QMP at ${path}: ${(e as Error).message}`);
        await sleep(100);
      }
    }
  }

  #greeted: (() => void) | null = null;

  #greeting(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#greeted = resolve;
      void this.closed.then(() => reject(this.#closed ?? qmpError('the QMP connection closed')));
    });
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    if (this.#buffer.length > MAX_LINE_BYTES && !this.#buffer.includes('\n')) {
      this.#socket.destroy(qmpError('QMP sent a line longer than 4 MiB'));
      return;
    }
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      if (line !== '') this.#message(line);
    }
  }

  #message(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.#socket.destroy(qmpError(`QMP sent a line that is not JSON: ${line.slice(0, 80)}`));
      return;
    }
    if ('QMP' in message) {
      this.#greeted?.();
      this.#greeted = null;
      return;
    }
    if (typeof message['event'] === 'string') {
      const event: QmpEvent = {
        event: message['event'],
        data: (message['data'] ?? {}) as Record<string, unknown>,
      };
      for (const listener of this.#listeners) listener(event);
      return;
    }
    const id = message['id'];
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (pending === undefined) return;
    this.#pending.delete(id as number);
    const error = message['error'] as { class?: string; desc?: string } | undefined;
    if (error !== undefined) {
      pending.reject(qmpError(`QMP ${pending.command}: ${error.desc ?? error.class ?? 'failed'}`));
    } else {
      pending.resolve(message['return']);
    }
  }

  /** Runs a QMP command and returns what it returns. */
  execute<T = unknown>(command: string, args?: Readonly<Record<string, unknown>>): Promise<T> {
    if (this.#closed !== null) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      this.#socket.write(
        `${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`,
      );
    });
  }

  /** Calls `listener` for every event until the returned function is called. */
  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The screen as a PNG file at `path` (written by QEMU itself). */
  async screenshot(path: string): Promise<void> {
    await this.execute('screendump', { filename: path, format: 'png' });
  }

  /** Presses and releases keys together, e.g. ['ret'] or ['ctrl', 'alt', 'delete'] (QEMU's qcodes). */
  async sendKeys(keys: readonly string[]): Promise<void> {
    await this.execute('send-key', { keys: keys.map((k) => ({ type: 'qcode', data: k })) });
  }

  close(): void {
    this.#socket.destroy();
  }
}
