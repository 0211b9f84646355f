// The boot network's interface and addresses as the boot services wait for them. At boot, or before
// a VM opens its tap, a bridge may have no carrier or no address yet; Node lists an interface only
// while it is up with carrier (a bridge whose ports are all down, a tap no VM has opened, are left
// out even when they have an address), which is also when the services can serve on it. So DHCP
// (its interface) and TFTP (the address it is told to bind) wait, looking again every second.

import { networkInterfaces } from 'node:os';
import { waitFor } from '../io/wait-for.ts';

/** How often the interfaces are looked at while a service waits. */
export const INTERFACE_POLL_MS = 1000;

export interface InterfaceAddress {
  readonly address: string;
  readonly netmask: string;
}

/** An interface's IPv4 addresses and netmasks; none while it is down or has no carrier. */
export function interfaceIpv4s(name: string): InterfaceAddress[] {
  return (networkInterfaces()[name] ?? [])
    .filter((a) => a.family === 'IPv4')
    .map((a) => ({ address: a.address, netmask: a.netmask }));
}

/** An interface's first IPv4 address and netmask, or null while it has none (or no carrier). */
export function findInterfaceAddress(name: string): InterfaceAddress | null {
  return interfaceIpv4s(name)[0] ?? null;
}

/** Whether `host` is a wildcard address (any interface's), not one address. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** Whether a socket can bind `host` now: a wildcard, or an address some interface has. */
export function canBind(host: string): boolean {
  if (isWildcardHost(host)) return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === host));
}

/** `find`'s answer once it has one, looking every `pollMs`; null when `signal` aborts first. */
export async function pollUntil<T>(
  find: () => T | null,
  signal: AbortSignal,
  pollMs = INTERFACE_POLL_MS,
): Promise<T | null> {
  try {
    return await waitFor('the boot interface', find, { timeoutMs: Infinity, everyMs: pollMs, signal });
  } catch (e) {
    if (signal.aborted) return null;
    throw e;
  }
}
