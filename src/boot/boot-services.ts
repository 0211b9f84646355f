// The network boot services of `winsmith server`, made ready to run under the server's one
// lifecycle: the HTTP boot routes (mounted on the server's app) and TFTP (and DHCP) as services that
// run until the server's signal aborts. At start the iPXE builds are located (Debian's `ipxe`, or
// the configured directory) and put into the boot root, which TFTP serves and /boot/files reads,
// with GRUB's fixed grub/grub.cfg; TFTP makes up each machine's GRUB config (grub-boot.ts), and
// DHCP sends each UEFI machine to shim or iPXE (boot-chain.ts).

import type { Hono } from 'hono';
import type { BootLog } from './boot-log.ts';
import { installBootFiles, installGrubConfig, locateBootFiles, type LocatedBootFiles } from './boot-files.ts';
import { chooseUefiChain, type UefiChainSetting } from './boot-chain.ts';
import { grubTftpFiles } from './grub-boot.ts';
import { RegistrationGate } from './registration-gate.ts';
import {
  httpBootRoutes,
  origin,
  type BootMachineRegistry,
  type DeployEnvironmentFiles,
} from './http-boot.ts';
import type { LeaseStore } from './dhcp-handler.ts';
import type { RegistrationLimits } from './registration-gate.ts';
import { startTftpServer } from './tftp-server.ts';
import { startDhcpServer } from './dhcp-server.ts';
import { canBind, findInterfaceAddress, isWildcardHost, pollUntil } from './interfaces.ts';

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
  /** The chain of UEFI PXE clients: shim (Secure Boot), ipxe, or auto (boot-chain.ts). */
  readonly uefiChain: UefiChainSetting;
}

/** How a boot service tells the server it serves, or waits (and for what): /api/health shows it. */
export type BootServiceReport = (state: 'waiting' | 'running', detail?: string) => void;

/** The shape of the server's services (src/server/server.ts `Service`). */
export interface BootService {
  readonly name: string;
  start(signal: AbortSignal, report: BootServiceReport): Promise<void>;
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
  await installGrubConfig(settings.bootRoot);
  log.log('info', 'boot files installed', { bootRoot: settings.bootRoot, from: located });
  return located;
}

/**
 * The listener machines fetch their boot URLs from: the plain boot listener when the server has
 * one, else the server's own (`secure` when that one is HTTPS).
 */
export interface BootListen {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
}

function listenUrl(host: string, listen: BootListen): string {
  return origin(listen.secure ? 'https' : 'http', host, listen.port);
}

/**
 * The HTTP base URL DHCP hands to iPXE: --boot-url, else the listen address when it is one
 * address, else the boot interface's address with the listen port; null while that interface has
 * no address.
 */
function dhcpHttpBase(settings: BootSettings, dhcp: BootDhcpSettings, listen: BootListen): string | null {
  if (settings.httpBase !== null) return settings.httpBase;
  const host = isWildcardHost(listen.host) ? findInterfaceAddress(dhcp.interface)?.address : listen.host;
  return host === undefined ? null : listenUrl(host, listen);
}

/**
 * The HTTP base URL GRUB's configs give the agent (GRUB reaches the server over TFTP, which tells
 * no HTTP address): as DHCP's when DHCP runs, else the listen address or TFTP's when either is one
 * address; null when nothing says (then --boot-url is needed).
 */
function grubHttpBase(settings: BootSettings, listen: BootListen): string | null {
  if (settings.httpBase !== null) return settings.httpBase;
  if (settings.dhcp !== null) return dhcpHttpBase(settings, settings.dhcp, listen);
  if (!isWildcardHost(listen.host)) return listenUrl(listen.host, listen);
  const tftpHost = settings.tftp?.host;
  return tftpHost === undefined || isWildcardHost(tftpHost) ? null : listenUrl(tftpHost, listen);
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
    /**
     * The listener whose address the URLs DHCP and GRUB's configs give out name, read once the
     * server listens (its port is then the real one when 0 was asked).
     */
    readonly listen: () => BootListen;
    /** How many unknown machines may register themselves. */
    readonly registration: RegistrationLimits;
    /** The deploy environment's boot files once ready, null while they are prepared. */
    readonly deployEnvironment: () => DeployEnvironmentFiles | null;
  },
): PreparedBoot {
  // One gate for both routes by which machines register themselves (iPXE over HTTP, GRUB over TFTP).
  const gate = new RegistrationGate(deps.registration);
  const routes = httpBootRoutes({
    registry: deps.registry,
    files: { located, bootRoot: settings.bootRoot },
    httpBase: settings.httpBase ?? undefined,
    log: deps.log,
    gate,
    deployEnvironment: deps.deployEnvironment,
    plainListener: () => {
      const listen = deps.listen();
      return listen.secure ? undefined : listen;
    },
  });
  const services: BootService[] = [];
  const grub = grubTftpFiles({
    registry: deps.registry,
    httpBase: () => grubHttpBase(settings, deps.listen()),
    log: deps.log,
    gate,
    deployEnvironment: deps.deployEnvironment,
  });
  const uefiChain = async (mac: string) =>
    chooseUefiChain({ server: settings.uefiChain, ...(await deps.registry.uefiChainInputs(mac)) });
  const tftp = settings.tftp;
  if (tftp !== null) {
    services.push({
      name: 'tftp',
      async start(signal, report) {
        if (!canBind(tftp.host)) {
          const reason = `no interface has the address ${tftp.host} yet`;
          report('waiting', reason);
          deps.log.log('warn', 'tftp waiting for its address', { host: tftp.host, reason });
          if ((await pollUntil(() => (canBind(tftp.host) ? true : null), signal)) === null) return;
          deps.log.log('info', 'tftp address ready', { host: tftp.host });
        }
        const server = await startTftpServer({
          root: settings.bootRoot,
          host: tftp.host,
          port: tftp.port,
          ...(tftp.maxTimeoutSeconds === null ? {} : { maxTimeoutSeconds: tftp.maxTimeoutSeconds }),
          ...(tftp.maxPerAddress === null ? {} : { maxPerAddress: tftp.maxPerAddress }),
          madeFiles: grub.files,
          signal,
          log: deps.log,
        });
        deps.log.log('info', 'tftp listening', { host: server.address, port: server.port });
        report('running', `${server.address}:${server.port}`);
        await untilAborted(signal);
        grub.stop();
        await server.close();
      },
    });
  }
  const dhcp = settings.dhcp;
  if (dhcp !== null) {
    services.push({
      name: 'dhcp',
      async start(signal, report) {
        let iface = findInterfaceAddress(dhcp.interface);
        if (iface === null) {
          const reason = `interface ${dhcp.interface} has no IPv4 address or no carrier yet`;
          report('waiting', reason);
          deps.log.log('warn', 'dhcp waiting for its interface', { interface: dhcp.interface, reason });
          iface = await pollUntil(() => findInterfaceAddress(dhcp.interface), signal);
          if (iface === null) return;
          deps.log.log('info', 'dhcp interface ready', { interface: dhcp.interface, address: iface.address });
        }
        const listen = deps.listen();
        const httpBase = dhcpHttpBase(settings, dhcp, listen) ?? listenUrl(iface.address, listen);
        const range =
          dhcp.range === null
            ? undefined
            : {
                rangeStart: dhcp.range.start,
                rangeEnd: dhcp.range.end,
                subnetMask: iface.netmask,
                leaseSeconds: dhcp.leaseSeconds,
              };
        const server = await startDhcpServer({
          mode: dhcp.mode,
          interface: dhcp.interface,
          serverAddress: iface.address,
          bootFiles: { bios: 'undionly.kpxe', uefi: 'ipxe.efi' },
          httpBase,
          ...(range === undefined ? {} : { range, leases: deps.leases }),
          uefiChain,
          // A machine that asks DHCP starts a boot: GRUB's answers kept for its last one go.
          onRequest: (mac) => grub.restarting(mac),
          signal,
          log: deps.log,
        });
        deps.log.log('info', 'dhcp listening', {
          mode: dhcp.mode,
          interface: dhcp.interface,
          address: server.serverAddress,
          httpBase,
        });
        report('running', `${server.serverAddress} on ${dhcp.interface}`);
        await untilAborted(signal);
        await server.close();
      },
    });
  }
  return { routes, services };
}
