// The log the network boot services write to: the same shape as the server's JSON logger
// (src/server/log.ts), declared here so that src/boot does not depend on the server layer, with
// the counts the server's metrics are made of.

export type BootLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the boot services count, for the server's metrics (GET /metrics). */
export type BootCount =
  | { readonly counter: 'dhcp-packet'; readonly direction: 'received' | 'sent' | 'dropped' }
  /** A packet on the TFTP listener: a request, or something dropped there. */
  | { readonly counter: 'tftp-request' }
  /** A transfer ended: how, the bytes of its file, and the packets it sent and received. */
  | {
      readonly counter: 'tftp-transfer';
      readonly outcome: string;
      readonly bytes: number;
      readonly sent: number;
      readonly received: number;
    }
  | { readonly counter: 'boot-script'; readonly loader: 'ipxe' | 'grub' };

export interface BootLog {
  log(level: BootLogLevel, msg: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Counts an event of the boot services (the server's metrics); absent: nothing is counted. */
  count?(event: BootCount): void;
}

export const silentBootLog: BootLog = { log: () => undefined };
