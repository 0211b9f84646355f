// The rules of multicast sessions, as pure functions: where a new session sends (its multicast
// address and UDP ports, from the administratively scoped range of the config, RFC 2365), and what
// an agent that asks how to receive its image is told, from its session's state.

import { AppError } from '../core/errors.ts';
import { ipv4FromNumber, ipv4Number } from '../formats/dhcp/dhcp.ts';
import type { MulticastJoin } from './agent-protocol.ts';
import type { MulticastReceiver, MulticastSession } from './multicast-store.ts';

/** RFC 2365: 239.0.0.0/8 is the administratively scoped range, never routed beyond a site. */
const ADMIN_SCOPED = { first: ipv4Number('239.0.0.0'), last: ipv4Number('239.255.255.255') };

/** `a.b.c.d` → its 32-bit value; NaN for anything else. */
function addressNumber(text: string): number {
  try {
    return ipv4Number(text);
  } catch {
    return NaN;
  }
}

/** An IPv4 range in 239.0.0.0/8: its first and last address. */
export interface AddressRange {
  readonly first: number;
  readonly last: number;
}

/** `239.192.85.0/24` → the range; what is not an administratively scoped CIDR is refused. */
export function parseMulticastRange(cidr: string, where: string): AddressRange {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = addressNumber(m?.[1] ?? '');
  const bits = Number(m?.[2]);
  if (m === null || Number.isNaN(base) || bits < 8 || bits > 32) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${where}: expected a range such as 239.192.85.0/24, found '${cidr}'`,
      {
        hint: 'give an IPv4 network and its prefix length',
      },
    );
  }
  const size = 2 ** (32 - bits);
  const first = base - (base % size);
  const range = { first, last: first + size - 1 };
  if (range.first < ADMIN_SCOPED.first || range.last > ADMIN_SCOPED.last) {
    throw new AppError('INVALID_ARGUMENT', `${where}: ${cidr} is not within 239.0.0.0/8`, {
      hint: 'multicast sessions use administratively scoped addresses (RFC 2365), e.g. 239.192.85.0/24',
    });
  }
  return range;
}

/** Sessions at once, at most: each takes an address of the range and two UDP ports. */
export const MAX_SESSIONS_AT_ONCE = 64;

/**
 * Where a new session sends: `address` when given (it must be in 239.0.0.0/8 and not taken),
 * else the first free address of `range` (its network address skipped); its ports are
 * `portBase + 2 × slot`, slot being the lowest not used by a session under way.
 */
export function chooseSessionPlace(
  range: AddressRange,
  portBase: number,
  active: readonly Pick<MulticastSession, 'address' | 'portBase'>[],
  address?: string,
): { address: string; portBase: number } {
  if (active.length >= MAX_SESSIONS_AT_ONCE) {
    throw new AppError('CONFLICT', `${active.length} multicast sessions are under way, the most at once`, {
      hint: 'wait for one to end, or cancel its deployments',
    });
  }
  const usedPorts = new Set(active.map((s) => s.portBase));
  let slot = 0;
  while (usedPorts.has(portBase + 2 * slot)) slot += 1;
  const usedAddresses = new Set(active.map((s) => s.address));
  if (address !== undefined) {
    const n = addressNumber(address);
    if (Number.isNaN(n) || n < ADMIN_SCOPED.first || n > ADMIN_SCOPED.last) {
      throw new AppError('INVALID_ARGUMENT', `multicast address ${address} is not within 239.0.0.0/8`, {
        hint: 'give an administratively scoped address (RFC 2365), e.g. 239.192.85.10',
      });
    }
    if (usedAddresses.has(address)) {
      throw new AppError('CONFLICT', `multicast address ${address} is used by a session under way`, {
        hint: 'give another address, or leave it to the server',
      });
    }
    return { address, portBase: portBase + 2 * slot };
  }
  for (let n = range.first + 1; n <= range.last; n++) {
    const text = ipv4FromNumber(n);
    if (!usedAddresses.has(text)) return { address: text, portBase: portBase + 2 * slot };
  }
  throw new AppError('CONFLICT', 'every address of the multicast range is used by a session under way', {
    hint: 'give a wider multicast.addresses range in the server config, or wait for a session to end',
  });
}

/** How long an agent waits before asking again while its session is being prepared. */
export const JOIN_RETRY_SECONDS = 2;

/** What the receiver of `session` is told when it asks how to receive its image. */
export function joinAnswer(
  session: MulticastSession,
  receiver: MulticastReceiver,
  place: { readonly sender: string; readonly receiveTimeoutSeconds: number },
): MulticastJoin {
  if (receiver.state === 'unicast') return { mode: 'unicast', reason: receiver.reason ?? 'moved to unicast' };
  switch (session.state) {
    case 'queued':
    case 'preparing':
      return { mode: 'wait', seconds: JOIN_RETRY_SECONDS };
    case 'joining':
      return {
        mode: 'multicast',
        group: session.name,
        sender: place.sender,
        address: session.address,
        portBase: session.portBase,
        index: 1,
        // The session starts at the latest maxWait after its first receiver joined.
        startTimeoutSeconds: session.maxWaitSeconds + place.receiveTimeoutSeconds,
        receiveTimeoutSeconds: place.receiveTimeoutSeconds,
      };
    case 'sending':
      return { mode: 'unicast', reason: `session ${session.name} had started when this machine asked` };
    case 'done':
    case 'failed':
    case 'cancelled':
      return {
        mode: 'unicast',
        reason: `session ${session.name} is ${session.state}${session.error === null ? '' : `: ${session.error}`}`,
      };
  }
}
