// The apply step when the deployment may be in a multicast session: the agent asks the server how
// to receive the image. In a session that has not started, it formats the Windows volume and
// applies the edition from udp-receiver's pipe as it comes; a session that had started, or none,
// sends it to the unicast path (the image over HTTP). When receiving fails (the session did not
// start in time, the sender dropped this machine, nothing came for too long), it says why and
// takes the unicast path: the volume is formatted again there, nothing received is kept.

import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProgressListener } from '../core/progress.ts';
import type { AgentReport, MulticastJoin } from '../deploy/agent-protocol.ts';
import { makeNtfs } from '../engines/ntfs.ts';
import { ipv4Number } from '../formats/dhcp/dhcp.ts';
import { udpReceiveApply } from '../engines/udpcast.ts';
import type { PlacedPartition } from '../image/disk/layout.ts';
import { messageOf } from './messages.ts';

export interface MulticastApply {
  /** Asks the server how to receive the image (tried again while the server cannot answer). */
  readonly join: () => Promise<MulticastJoin>;
  /** The unicast apply: the volume formatted, the image streamed over HTTP. */
  readonly unicast: () => Promise<void>;
  /** Tells the server where the machine is in its session. */
  readonly report: (state: NonNullable<AgentReport['multicast']>) => void;
  readonly log: (line: string) => void;
  readonly onProgress: ProgressListener;
  /** The Windows volume and its partition. */
  readonly volume: string;
  readonly partition: PlacedPartition;
  /** A network namespace udp-receiver runs in (the machine's network, in tests); null: none. */
  readonly netns: string | null;
  readonly signal: AbortSignal;
}

/** Waits, at most, while a session is being prepared: then the image goes over HTTP. */
const MAX_JOIN_WAIT_MS = 30 * 60_000;

/** The interface whose IPv4 subnet holds `address` (the sender's), or null. */
export function interfaceToward(
  address: string,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string | null {
  const target = ipv4Number(address);
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const a of addresses ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const mask = ipv4Number(a.netmask);
      if ((ipv4Number(a.address) & mask) >>> 0 === (target & mask) >>> 0) return name;
    }
  }
  return null;
}

/** Applies the image, from the deployment's multicast session when it is in one; how it came. */
export async function applyMaybeMulticast(m: MulticastApply): Promise<'multicast' | 'unicast'> {
  let answer = await m.join();
  const until = Date.now() + MAX_JOIN_WAIT_MS;
  while (answer.mode === 'wait' && Date.now() < until) {
    await sleep(answer.seconds * 1000, undefined, { signal: m.signal });
    answer = await m.join();
  }
  if (answer.mode !== 'multicast') {
    if (answer.mode === 'unicast' && answer.reason !== 'the deployment is in no multicast session')
      m.log(`the image comes over HTTP: ${answer.reason}`);
    await m.unicast();
    return 'unicast';
  }
  const receiving = m.netns === null ? interfaceToward(answer.sender) : null;
  m.log(
    `multicast session ${answer.group}: receiving ${answer.address} (ports ${answer.portBase}-${answer.portBase + 1}) from ${answer.sender}${receiving === null ? '' : ` on ${receiving}`}`,
  );
  m.report({ state: 'receiving' });
  try {
    await makeNtfs(m.volume, { label: m.partition.label, startSector: m.partition.firstLba });
    await udpReceiveApply({
      portBase: answer.portBase,
      interface: receiving,
      startTimeoutSeconds: answer.startTimeoutSeconds,
      receiveTimeoutSeconds: answer.receiveTimeoutSeconds,
      index: answer.index,
      target: m.volume,
      netns: m.netns,
      onProgress: m.onProgress,
      signal: m.signal,
    });
  } catch (e) {
    if (m.signal.aborted) throw e;
    const reason = messageOf(e);
    m.log(`multicast session ${answer.group}: ${reason}; the image comes over HTTP instead`);
    m.report({ state: 'unicast', reason });
    await m.unicast();
    return 'unicast';
  }
  m.report({ state: 'done' });
  return 'multicast';
}
