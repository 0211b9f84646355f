// Network boot for `winsmith server`: the boot services (HTTP boot routes, TFTP, DHCP) on the
// machines of the application the server serves. The boot services' code (and TFTP's, DHCP's) is
// loaded only when boot is asked for.

import type { BootLog } from '../boot/boot-log.ts';
import type { BootService, BootSettings } from '../boot/boot-services.ts';
import type { RegistrationLimits } from '../boot/registration-gate.ts';
import type { Hono } from 'hono';
import type { LocalApp } from './local-app.ts';

export type { BootDhcpSettings, BootSettings } from '../boot/boot-services.ts';

export interface Netboot {
  readonly routes: Hono;
  readonly services: readonly BootService[];
}

/**
 * Before the server starts: the iPXE builds located and installed into the boot root (a missing
 * build stops the start with an error naming the package). Then, once the application is open,
 * the routes and services on its machines.
 */
export async function prepareNetboot(
  settings: BootSettings,
  log: BootLog,
): Promise<(app: LocalApp, deps: NetbootDeps) => Netboot> {
  const services = await import('../boot/boot-services.ts');
  const located = await services.installIpxe(settings, log);
  return (app, deps) => services.bootParts(settings, located, { ...app.bootPorts(), log, ...deps });
}

export interface NetbootDeps {
  /** The HTTP listener's address, for the URLs DHCP gives out. */
  readonly listen: { readonly host: string; readonly port: number };
  /** How many unknown machines may register themselves. */
  readonly registration: RegistrationLimits;
}
