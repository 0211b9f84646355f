// The network boot services of `winsmith server`, made ready to run under the server's one
// lifecycle: the HTTP boot routes (mounted on the server's app) and TFTP (and DHCP) as services that
// run until the server's signal aborts. At start the iPXE builds are located (Debian's `ipxe`, or
// the configured directory) and put into the boot root, which TFTP serves and /boot/files reads.

import type { Hono } from 'hono';
import type { BootLog } from './boot-log.ts';
import { installBootFiles, locateBootFiles, type LocatedBootFiles } from './boot-files.ts';
import { httpBootRoutes, type BootMachineRegistry, type DeployEnvironmentFiles } from './http-boot.ts';
import type { LeaseStore } from './dhcp-handler.ts';
import type { RegistrationLimits } from './registration-gate.ts';
import { startTftpServer } from './tftp-server.ts';
import { interfaceAddress, startDhcpServer } from './dhcp-server.ts';

/** DHCP on the boot network: proxy (boot options beside another server) or full (addresses too). */
export interface BootDhcpSettings {
  readonly mode: 'proxy' | 'full';
  readonly interface: string;
  /** Full mode: first and last address given out. */
  readonly range: { readonly start: string; readonly end: string } | null;
  readonly leaseSeconds: number;
}

export interface BootSettings {
  /** Directory served over TFTP and at /boot/files; the iPXE builds are placed in it at start. */
  readonly bootRoot: string;
  /** Other iPXE builds (e.g. signed for Secure Boot) instead of Debian's; null = /usr/lib/ipxe. */
  readonly ipxeDir: string | null;
  /** TFTP listen address and limits (null: the server's defaults); null = no TFTP. */
  readonly tftp: {
    readonly host: string;
    readonly port: number;
    /** Largest timeout option agreed, in seconds. */
    readonly maxTimeoutSeconds: number | null;
    /** Transfers at once from one client address. */
    readonly maxPerAddress: number | null;
  } | null;
  /** Base URL clients reach the HTTP server at; null = the address each request came to. */
  readonly httpBase: string | null;
  /** null = no DHCP (another server gives the boot options). */
  readonly dhcp: BootDhcpSettings | null;
  /** A deploy environment 'winsmith bootenv build' made; null: built on first need. */
  readonly deployEnvironment: string | null;
}

/** The shape of the server's services (src/server/server.ts `Service`). */
export interface BootService {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
}

export interface PreparedBoot {
  readonly routes: Hono;
  readonly services: readonly BootService[];
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Before the server starts: locates the iPXE builds and installs them into the boot root. A missing
 * build stops the start with an error naming the package.
 */
export async function installIpxe(settings: BootSettings, log: BootLog): Promise<LocatedBootFiles> {
  const located = await locateBootFiles(settings.ipxeDir ?? undefined);
  await installBootFiles(settings.bootRoot, located);
  log.log('info', 'boot files installed', { bootRoot: settings.bootRoot, from: located });
  return located;
}

/**
 * The HTTP base URL DHCP hands to iPXE: --boot-url, else the listen address when it is one
 * address, else the boot interface's address with the listen port.
 */
function dhcpHttpBase(
  settings: BootSettings,
  dhcp: BootDhcpSettings,
  listen: { host: string; port: number },
): string {
  if (settings.httpBase !== null) return settings.httpBase;
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::' || listen.host === '';
  const host = wildcard ? interfaceAddress(dhcp.interface).address : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}

/** The boot routes (to mount at the root of the server's app) and services, over the machines' ports. */
export function bootParts(
  settings: BootSettings,
  located: LocatedBootFiles,
  deps: {
    /** The machines the boot routes look up and register. */
    readonly registry: BootMachineRegistry;
    /** Where full-mode DHCP keeps its leases. */
    readonly leases: LeaseStore;
    readonly log: BootLog;
    /** The HTTP listener's address, for the URLs DHCP gives out. */
    readonly listen: { readonly host: string; readonly port: number };
    /** How many unknown machines may register themselves. */
    readonly registration: RegistrationLimits;
    /** The deploy environment's boot files once ready, null while they are prepared. */
    readonly deployEnvironment: () => DeployEnvironmentFiles | null;
  },
): PreparedBoot {
  const routes = httpBootRoutes({
    registry: deps.registry,
    files: { located, bootRoot: settings.bootRoot },
    httpBase: settings.httpBase ?? undefined,
    log: deps.log,
    registration: deps.registration,
    deployEnvironment: deps.deployEnvironment,
  });
  const services: BootService[] = [];
  const tftp = settings.tftp;
  if (tftp !== null) {
    services.push({
      name: 'tftp',
      async start(signal) {
        const server = await startTftpServer({
          root: settings.bootRoot,
          host: tftp.host,
          port: tftp.port,
          ...(tftp.maxTimeoutSeconds === null ? {} : { maxTimeoutSeconds: tftp.maxTimeoutSeconds }),
          ...(tftp.maxPerAddress === null ? {} : { maxPerAddress: tftp.maxPerAddress }),
          signal,
          log: deps.log,
        });
        deps.log.log('info', 'tftp listening', { host: server.address, port: server.port });
        await untilAborted(signal);
        await server.close();
      },
    });
  }
  const dhcp = settings.dhcp;
  if (dhcp !== null) {
    services.push({
      name: 'dhcp',
      async start(signal) {
        const httpBase = dhcpHttpBase(settings, dhcp, deps.listen);
        const range =
          dhcp.range === null
            ? undefined
            : {
                rangeStart: dhcp.range.start,
                rangeEnd: dhcp.range.end,
                subnetMask: interfaceAddress(dhcp.interface).netmask,
                leaseSeconds: dhcp.leaseSeconds,
              };
        const server = await startDhcpServer({
          mode: dhcp.mode,
          interface: dhcp.interface,
          bootFiles: { bios: 'undionly.kpxe', uefi: 'ipxe.efi' },
          httpBase,
          ...(range === undefined ? {} : { range, leases: deps.leases }),
          signal,
          log: deps.log,
        });
        deps.log.log('info', 'dhcp listening', {
          mode: dhcp.mode,
          interface: dhcp.interface,
          address: server.serverAddress,
          httpBase,
        });
        await untilAborted(signal);
        await server.close();
      },
    });
  }
  return { routes, services };
}
