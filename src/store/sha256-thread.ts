// SHA-256 of a long stream computed on a worker thread, so that the thread cutting chunks does not
// also spend its time on the whole-content hash. Pieces are copied to the worker; at most
// MAX_PENDING pieces wait there, so memory stays bounded when the worker falls behind.

import { Worker } from 'node:worker_threads';
import { AppError } from '../core/errors.ts';

/** CommonJS run by the worker: hash each piece, acknowledge it, send the digest when asked (null). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (piece) => {
  if (piece === null) parentPort.postMessage({ digest: hash.digest('hex') });
  else { hash.update(piece); parentPort.postMessage({ ack: 1 }); }
});
`;

const MAX_PENDING = 8;

export class Sha256Thread {
  readonly #worker: Worker;
  #pending = 0;
  #wake: (() => void) | null = null;
  #result: { resolve: (digest: string) => void; reject: (e: Error) => void } | null = null;
  #failure: Error | null = null;

  constructor() {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true });
    this.#worker.on('message', (m: { ack?: number; digest?: string }) => {
      if (m.digest !== undefined) {
        this.#result?.resolve(m.digest);
        return;
      }
      this.#pending--;
      this.#wake?.();
      this.#wake = null;
    });
    this.#worker.on('error', (e: Error) => {
      this.#failure = e;
      this.#wake?.();
      this.#result?.reject(e);
    });
  }

  /** Adds a piece; waits only when the worker is MAX_PENDING pieces behind. */
  async update(piece: Uint8Array): Promise<void> {
    while (this.#pending >= MAX_PENDING && this.#failure === null) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    this.#check();
    this.#pending++;
    this.#worker.postMessage(piece);
  }

  /** The digest (lower-case hex) of everything added; the thread ends. */
  async digest(): Promise<string> {
    this.#check();
    const digest = await new Promise<string>((resolve, reject) => {
      this.#result = { resolve, reject };
      this.#worker.postMessage(null);
    });
    await this.#worker.terminate();
    return digest;
  }

  /** Ends the thread without a digest (after a failure elsewhere). */
  async close(): Promise<void> {
    await this.#worker.terminate();
  }

  #check(): void {
    if (this.#failure !== null) {
      throw new AppError('INTERNAL', `the hashing thread failed: ${this.#failure.message}`, {
        cause: this.#failure,
      });
    }
  }
}
