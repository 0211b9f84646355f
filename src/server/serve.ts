// `winsmith server` put together: the configured repository, the API app (plus mounted route
// modules) and startServer's lifecycle with any extra services (DHCP and TFTP for network boot). On a
// repository without users it creates 'admin' and reports the generated password once.

import { readFileSync } from 'node:fs';
import { redactSettings, type ServerSettings } from '../config/server-config.ts';
import { openConfiguredRepository } from '../store/repository-open.ts';
import type { LocalRepository } from '../store/repository-local.ts';
import { createApp } from './app.ts';
import { EventHub } from './events.ts';
import type { Logger } from './log.ts';
import type { MountedApp, RouteModule } from './routes.ts';
import { startServer, type RunningServer, type Service } from './server.ts';

export interface ServeOptions {
  readonly logger: Logger;
  readonly handleSignals?: boolean;
  /** Extra parts; given the repository so they can use its catalog. */
  readonly extras?: (repo: LocalRepository) => {
    readonly services?: readonly Service[];
    readonly modules?: readonly RouteModule[];
    readonly mounts?: readonly MountedApp[];
  };
  /** Called once with the generated admin password of a new repository. */
  readonly onFirstAdmin?: (admin: { name: string; password: string }) => void;
}

export function serverVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function serveRepository(
  settings: ServerSettings,
  options: ServeOptions,
): Promise<{ server: RunningServer; repo: LocalRepository }> {
  const { logger } = options;
  logger.log('info', 'starting', { settings: redactSettings(settings) });
  const repo = await openConfiguredRepository(settings);
  try {
    const admin = await repo.ensureFirstAdmin({ user: 'server', client: 'local' });
    if (admin !== null) {
      logger.log('info', 'first admin created; its password was printed once on stderr', {
        user: admin.name,
      });
      options.onFirstAdmin?.(admin);
    }
    const extras = options.extras?.(repo) ?? {};
    const { app } = createApp({
      backend: repo,
      events: new EventHub(),
      logger,
      version: serverVersion(),
      maxJsonBodyBytes: settings.maxJsonBodyBytes,
      ...(extras.modules === undefined ? {} : { modules: extras.modules }),
      ...(extras.mounts === undefined ? {} : { mounts: extras.mounts }),
    });
    const server = await startServer({
      host: settings.host,
      port: settings.port,
      fetch: app.fetch,
      logger,
      services: extras.services ?? [],
      handleSignals: options.handleSignals ?? false,
    });
    void server.done.finally(() => repo.close()).catch(() => undefined);
    return { server, repo };
  } catch (e) {
    await repo.close();
    throw e;
  }
}
