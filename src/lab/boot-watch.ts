// A lab VM's power-on, watched for progress: what the server did for it (a line of its log naming
// the VM's MAC or the address DHCP gave it, or the deploy environment it prepares), a change of its
// deployment, more on its console, or packets it sent (a long TFTP transfer logs only its end). A
// VM that shows none of these for a while has stalled — a firmware sitting at its boot menu after a
// loader returned, a loader waiting for nothing — and waiting on for the rest of the lab's time
// tells no more: the lab stops there, with the last step seen and the console's last line.

import { AppError } from '../core/errors.ts';
import type { ServerLogLine } from './lab-server.ts';

/** How long a powered-on VM may show no progress at all. */
export const LAB_STALL_MS = 5 * 60_000;

/** A console's last line without its terminal's control sequences, at most 160 characters. */
export function lastConsoleLine(text: string): string {
  const lines = text
    // eslint-disable-next-line no-control-regex -- the terminal's own escape sequences
    .replace(/\x1b\[[0-9;=?]*[A-Za-z]/g, '')
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return (lines.at(-1) ?? '').slice(0, 160);
}

/** What a line of the server's log did, in a few words: its message and the file or path it names. */
function stepOf(line: ServerLogLine): string {
  const what = [line.file, line.path, line.action].find((v) => typeof v === 'string');
  return what === undefined ? line.msg : `${line.msg} ${what}`;
}

export class BootWatch {
  readonly #mac: string;
  readonly #stallMs: number;
  #address: string | null = null;
  /** The last thing the server did for the VM, and when. */
  #step: { what: string; at: number } | null = null;
  /** When anything last happened. */
  #at: number;
  #console = 0;
  #deployment = '';
  #packets: number | null = null;

  constructor(mac: string, now: number, stallMs = LAB_STALL_MS) {
    this.#mac = mac;
    this.#at = now;
    this.#stallMs = stallMs;
  }

  /** A line of the server's log, as it comes. */
  serverLine(line: ServerLogLine, now: number): void {
    const ack = /^DHCP DHCPACK to (\S+) (\S+)/.exec(line.msg);
    if (ack?.[1] === this.#mac && ack[2] !== undefined) this.#address = ack[2];
    const client = typeof line.client === 'string' ? line.client : '';
    const mine =
      line.mac === this.#mac ||
      (line.msg.startsWith('DHCP ') && line.msg.includes(this.#mac)) ||
      (this.#address !== null && (client === this.#address || client.startsWith(`${this.#address}:`))) ||
      line.msg.startsWith('deploy environment: ');
    if (!mine) return;
    this.#step = { what: stepOf(line), at: now };
    this.#at = now;
  }

  /**
   * Progress seen on the console (its whole text so far), in the deployment (its updatedAt; ''
   * when there is none) or in the packets the VM sent (null: unknown), and the stall when there
   * has been none for too long: an error naming the last step the server saw and the console's
   * last line.
   */
  check(
    seen: { readonly console: string; readonly deployment: string; readonly packets: number | null },
    now: number,
  ): AppError | null {
    const { console } = seen;
    if (
      console.length !== this.#console ||
      seen.deployment !== this.#deployment ||
      (seen.packets !== null && seen.packets !== this.#packets)
    ) {
      this.#console = console.length;
      this.#deployment = seen.deployment;
      this.#packets = seen.packets ?? this.#packets;
      this.#at = now;
    }
    const quiet = now - this.#at;
    if (quiet < this.#stallMs) return null;
    const step =
      this.#step === null
        ? 'the server has seen nothing of it since it was powered on'
        : `the server last did "${this.#step.what}" for it ${Math.round((now - this.#step.at) / 1000)} s ago`;
    return new AppError(
      'TIMED_OUT',
      `the VM made no progress for ${Math.round(quiet / 1000)} s: ${step}, and its console ends "${lastConsoleLine(console)}"`,
      { hint: 'its console and the server log (named above) show its boot up to there' },
    );
  }
}
