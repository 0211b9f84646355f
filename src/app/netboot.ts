// Network boot for `winsmith server`: the boot services (HTTP boot routes, TFTP, DHCP) on the
// machines and deployments of the application the server serves, with the deploy environment
// machines are started into (src/app/deploy-environment.ts). The boot services' code (and TFTP's,
// DHCP's, and the deploy environment's) is loaded only when boot is asked for.

import type { BootCount, BootLog } from '../boot/boot-log.ts';
import type { BootListen, BootService, BootSettings } from '../boot/boot-services.ts';
import type { RegistrationLimits } from '../boot/registration-gate.ts';
import type { Hono } from 'hono';
import type { LocalApp } from './local-app.ts';

export type { BootDhcpSettings, BootListen, BootSettings } from '../boot/boot-services.ts';

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
  const { DeployEnvironment } = await import('./deploy-environment.ts');
  const located = await services.installIpxe(settings, log);
  return (app, deps) => {
    const counted: BootLog = { log: (level, msg, fields) => log.log(level, msg, fields), count: deps.count };
    const environment = new DeployEnvironment({
      dataDir: deps.dataDir,
      prebuilt: settings.deployEnvironment,
      bootRoot: settings.bootRoot,
      log,
    });
    if (settings.deployEnvironment !== null) environment.begin();
    void environment.installLoaders();
    return services.bootParts(settings, located, {
      ...app.bootPorts(),
      log: counted,
      listen: deps.listen,
      registration: deps.registration,
      deployEnvironment: () => environment.files(),
    });
  };
}

export interface NetbootDeps {
  /** The data directory: the deploy environment is built under it (DATA/bootenv) on first need. */
  readonly dataDir: string;
  /** The listener machines are sent to (the plain boot listener when there is one), once the server listens. */
  readonly listen: () => BootListen;
  /** How many unknown machines may register themselves. */
  readonly registration: RegistrationLimits;
  /** Where the boot services' packets, transfers and boot scripts are counted (the server's metrics). */
  readonly count: (event: BootCount) => void;
}
