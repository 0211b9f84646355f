// Network namespaces through `ip` (iproute2): a private network stack with a bridge and tap devices
// for VMs, and programs run inside it (`ip netns exec`). Nothing here touches any other network:
// every link is made inside the namespace, and deleting the namespace deletes them all. Root only.

import { randomBytes } from 'node:crypto';
import { AppError, errorText } from '../core/errors.ts';
import { runProgram, startService, type RunningService, type ServiceOptions } from './run.ts';

/** A namespace name `ip netns` accepts and that is safe on a command line. */
const NAMESPACE_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;

/** Link names: at most 15 bytes (IFNAMSIZ - 1). */
const LINK_NAME = /^[a-z0-9][a-z0-9-]{0,14}$/;

/** Any interface's name, as the kernel takes it (e.g. enp1s0, eth0.100, br-boot). */
const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/;

function checked(name: string, pattern: RegExp, what: string): string {
  if (!pattern.test(name)) {
    throw new AppError('INVALID_ARGUMENT', `${what} '${name}' is not a name of ${pattern.source}`, {
      hint: 'use lower-case letters, digits and hyphens',
    });
  }
  return name;
}

async function ip(args: readonly string[]): Promise<string> {
  return (await runProgram('ip', args)).stdout.toString('utf8');
}

/** Why namespaces with tap devices cannot be made here, or null when they can (tried, then removed). */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network namespaces and tap devices need root (ip netns add)';
  const name = `ws-probe-${randomBytes(3).toString('hex')}`;
  try {
    await ip(['netns', 'add', name]);
    await ip(['-n', name, 'tuntap', 'add', 'tapprobe', 'mode', 'tap']);
    return null;
  } catch (e) {
    return `cannot make a network namespace with a tap device: ${errorText(e)}`;
  } finally {
    await ip(['netns', 'del', name]).catch(() => undefined);
  }
}

/** Makes namespace `name` with its loopback up. */
export async function addNetns(name: string): Promise<void> {
  await ip(['netns', 'add', checked(name, NAMESPACE_NAME, 'network namespace')]);
  try {
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    await ip(['netns', 'del', name]).catch(() => undefined);
    throw e;
  }
}

/** Makes a bridge in namespace `ns` with address `cidr` (e.g. 10.1.2.1/24), up. */
export async function addBridge(ns: string, bridge: string, cidr: string): Promise<void> {
  checked(bridge, LINK_NAME, 'bridge');
  await ip(['-n', ns, 'link', 'add', bridge, 'type', 'bridge']);
  await ip(['-n', ns, 'addr', 'add', cidr, 'dev', bridge]);
  await ip(['-n', ns, 'link', 'set', bridge, 'up']);
}

/** Makes tap device `tap` in namespace `ns`, a port of `bridge`, up (a VM opens it by name). */
export async function addTap(ns: string, tap: string, bridge: string): Promise<void> {
  checked(tap, LINK_NAME, 'tap device');
  await ip(['-n', ns, 'tuntap', 'add', tap, 'mode', 'tap']);
  await ip(['-n', ns, 'link', 'set', tap, 'master', bridge]);
  await ip(['-n', ns, 'link', 'set', tap, 'up']);
}

/**
 * Starts `command` inside namespace `ns` (found on the PATH there, as by the shell). It gets SIGTERM
 * when this process ends, however it ends (setpriv's parent-death signal; `ip netns exec` and
 * setpriv each run the next program in their own place): a caller that is killed leaves nothing
 * running in the namespace.
 */
export function startInNetns(
  ns: string,
  command: string,
  args: readonly string[],
  options: ServiceOptions = {},
): RunningService {
  const ending = ['setpriv', '--pdeathsig', 'TERM', '--', command, ...args];
  return startService('ip', ['netns', 'exec', ns, ...ending], options);
}

/** The processes running inside namespace `ns`. */
export async function netnsPids(ns: string): Promise<number[]> {
  const out = await ip(['netns', 'pids', ns]);
  return out
    .split('\n')
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}

/**
 * Deletes namespace `ns` and with it every link made inside it, after killing (SIGKILL) the
 * processes still running there: a namespace with a process left in it would live on.
 */
export async function deleteNetns(ns: string): Promise<void> {
  for (const pid of await netnsPids(ns).catch(() => [])) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
  await ip(['netns', 'del', ns]);
}

/** The names of the namespaces that exist. */
export async function listNetns(): Promise<string[]> {
  const out = await ip(['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** The first IPv4 address of link `dev`, in namespace `ns` (null: this one); null when it has none. */
export async function ipv4AddressOf(dev: string, ns: string | null): Promise<string | null> {
  checked(dev, INTERFACE_NAME, 'interface');
  const out = await ip([...(ns === null ? [] : ['-n', ns]), '-4', '-o', 'addr', 'show', 'dev', dev]);
  return /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? null;
}
