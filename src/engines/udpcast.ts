// udpcast (Debian `udpcast`): `udp-sender` multicasts one file to every `udp-receiver` that joined
// its session on the same link, each slice acknowledged by all receivers (a receiver that does not
// answer after a number of retransmission requests is dropped, the others go on). Here: the
// sender's arguments and its progress lines read into events, and the receiver's arguments.
// Every address and port is given explicitly: the sender's data go to the session's own multicast
// address on the one interface it is told, with a TTL of 1 (udpcast's default), never routed.

import type { ProgressListener } from '../core/progress.ts';
import { runPiped, startService, type RunningService } from './run.ts';
import { startInNetns } from './netns.ts';
import { parseWimlibProgress } from './wimlib-progress.ts';

export interface UdpSenderOptions {
  /** The file sent (a pipable WIM). */
  readonly file: string;
  /** The network interface the data go out of (the boot network's). */
  readonly interface: string;
  /** The session's multicast address for the data (e.g. 239.192.85.7). */
  readonly address: string;
  /** Its two UDP ports: this (even) one and the next. */
  readonly portBase: number;
  /** Start as soon as this many receivers joined. */
  readonly minReceivers: number;
  /** Start anyway this long after the first receiver joined, with those that did. */
  readonly maxWaitSeconds: number;
  /** The rate cap, in bits per second; null: none. */
  readonly maxBitsPerSecond: number | null;
  /** A receiver that does not acknowledge after this many retransmission requests is dropped. */
  readonly retriesUntilDrop: number;
  /** A network namespace to run in (the boot network's, when it is one); null: this one. */
  readonly netns: string | null;
  readonly onEvent: (event: UdpSenderEvent) => void;
}

export type UdpSenderEvent =
  | { readonly kind: 'joined'; readonly address: string; readonly receiver: number }
  | { readonly kind: 'started' }
  | { readonly kind: 'progress'; readonly bytes: number }
  | { readonly kind: 'dropped'; readonly receiver: number }
  | { readonly kind: 'complete' };

/** udp-sender's arguments. */
export function udpSenderArgs(options: Omit<UdpSenderOptions, 'netns' | 'onEvent'>): string[] {
  return [
    '--file',
    options.file,
    '--interface',
    options.interface,
    '--mcast-data-address',
    options.address,
    '--portbase',
    String(options.portBase),
    '--min-receivers',
    String(options.minReceivers),
    '--max-wait',
    String(options.maxWaitSeconds),
    '--retries-until-drop',
    String(options.retriesUntilDrop),
    '--nokbd',
    ...(options.maxBitsPerSecond === null ? [] : ['--max-bitrate', String(options.maxBitsPerSecond)]),
  ];
}

/** One line udp-sender wrote, as an event; null for the lines that say nothing of the session. */
export function parseUdpSenderLine(raw: string): UdpSenderEvent | null {
  // udp-sender rings the terminal's bell at the end (`Transfer complete.\a`).
  const line = raw.replaceAll('\u0007', '');
  const joined = /^New connection from (\S+)\s+\(#(\d+)\)/.exec(line);
  if (joined !== null) return { kind: 'joined', address: joined[1] ?? '', receiver: Number(joined[2]) };
  if (line.startsWith('Starting transfer')) return { kind: 'started' };
  // `bytes=1 234 567  re-xmits=…`: the bytes sent, in groups of three digits.
  const progress = /^bytes=\s*([\d ]+?)\s{2}/.exec(line);
  if (progress !== null) return { kind: 'progress', bytes: Number((progress[1] ?? '').replaceAll(' ', '')) };
  const dropped = /^Dropping client #(\d+) because of timeout/.exec(line);
  if (dropped !== null) return { kind: 'dropped', receiver: Number(dropped[1]) };
  if (line.trim() === 'Transfer complete.') return { kind: 'complete' };
  return null;
}

/** The characters of udp-sender's output kept: enough for its last lines. */
const SENDER_OUTPUT_KEPT = 16 * 1024;

/** Starts udp-sender; it ends by itself once every receiver has the file, or when stopped. */
export function startUdpSender(options: UdpSenderOptions): RunningService {
  const args = udpSenderArgs(options);
  const onLine = (line: string): void => {
    const event = parseUdpSenderLine(line);
    if (event !== null) options.onEvent(event);
  };
  // Ended with the process that started it, however that one ends (setpriv's parent-death signal).
  // It writes a progress line for as long as it sends: only the end of its output is kept.
  const service = { onLine, keepLast: SENDER_OUTPUT_KEPT };
  return options.netns === null
    ? startService('setpriv', ['--pdeathsig', 'TERM', '--', 'udp-sender', ...args], service)
    : startInNetns(options.netns, 'udp-sender', args, service);
}

export interface UdpReceiverOptions {
  readonly portBase: number;
  /** The network interface to receive on; null: udp-receiver's own choice. */
  readonly interface: string | null;
  /** Give up when the sender has not started within this. */
  readonly startTimeoutSeconds: number;
  /** Give up when nothing came for this long once started. */
  readonly receiveTimeoutSeconds: number;
}

/** udp-receiver's arguments: what it receives goes to its stdout. */
export function udpReceiverArgs(options: UdpReceiverOptions): string[] {
  return [
    '--portbase',
    String(options.portBase),
    ...(options.interface === null ? [] : ['--interface', options.interface]),
    '--nokbd',
    '--start-timeout',
    String(options.startTimeoutSeconds),
    '--receive-timeout',
    String(options.receiveTimeoutSeconds),
  ];
}

export interface ReceiveApplyOptions extends UdpReceiverOptions {
  /** The edition's index in what is received. */
  readonly index: number;
  /** The NTFS volume (a block device or a file) the edition is applied to. */
  readonly target: string;
  /** A network namespace for udp-receiver (the machine's network, when it is one); null: this one. */
  readonly netns: string | null;
  readonly onProgress: ProgressListener;
  readonly signal?: AbortSignal;
}

/**
 * `udp-receiver | wimlib-imagex apply - INDEX TARGET`: the pipable WIM the session sends, applied
 * as it comes. Fails when either fails (udp-receiver timed out or was dropped, or the stream
 * broke off): nothing of it is kept, the caller formats the volume again.
 */
export async function udpReceiveApply(options: ReceiveApplyOptions): Promise<void> {
  const args = udpReceiverArgs(options);
  const receiver =
    options.netns === null
      ? { program: 'udp-receiver' as const, args }
      : {
          program: 'ip' as const,
          args: [
            'netns',
            'exec',
            options.netns,
            'setpriv',
            '--pdeathsig',
            'TERM',
            '--',
            'udp-receiver',
            ...args,
          ],
        };
  await runPiped(
    // udp-receiver says "Transfer complete." at every exit, also after "We have been dropped by sender".
    { ...receiver, exitLine: /^Transfer complete\./ },
    {
      program: 'wimlib-imagex',
      args: ['apply', '-', String(options.index), options.target],
      onLine(line) {
        const event = parseWimlibProgress(line);
        if (event !== null) options.onProgress(event);
      },
    },
    options.signal,
  );
}
