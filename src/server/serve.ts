// `winsmith server` put together: the application on the configured stores, the API app (plus
// mounted hono apps) and startServer's lifecycle with the deployments' watch and any extra
// services (DHCP and TFTP for network boot). On a repository without users it creates 'admin' with
// a generated password kept in DATA/initial-admin-password (src/app/initial-password.ts); the log says
// where, never what.

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactSettings, type ServerSettings } from '../config/server-config.ts';
import { LocalApp } from '../app/local-app.ts';
import { createApp } from './app.ts';
import { consoleDirectory, serveConsole } from './console.ts';
import type { Logger } from './log.ts';
import type { MountedApp } from './routes.ts';
import { startServer, type RunningServer, type Service, type StartServerOptions } from './server.ts';
import { errorText } from '../core/errors.ts';
import { initialPasswordPath, keepInFile } from '../app/initial-password.ts';
import { ServiceStatuses } from './service-status.ts';
import { ServerMetrics } from './metrics.ts';

export interface ServeOptions {
  readonly logger: Logger;
  readonly handleSignals?: boolean;
  /** Extra parts (network boot), made on the application the server serves and counted in its metrics. */
  readonly extras?: (
    app: LocalApp,
    metrics: ServerMetrics,
  ) => {
    readonly services?: readonly Service[];
    readonly mounts?: readonly MountedApp[];
  };
  /** Called once the listeners listen, with their real ports (startServer's onListening). */
  readonly onListening?: StartServerOptions['onListening'];
  /** Called once with the generated admin password of a new repository, and the file it is in. */
  readonly onFirstAdmin?: (admin: { name: string; password: string; file: string }) => void;
  /** Where each service's state is kept (for /api/health); a new one when absent. */
  readonly statuses?: ServiceStatuses;
}

export function serverVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Fails the deployments whose agent has gone silent past the timeout ("agent lost"), looking a few
 * times within each timeout.
 */
function deploymentWatch(local: LocalApp, logger: Logger): Service {
  const { agentTimeoutSeconds, bootTimeoutSeconds } = local.deploymentSettings;
  const everyMs = Math.max(
    1000,
    Math.min(30_000, (Math.min(agentTimeoutSeconds, bootTimeoutSeconds) * 1000) / 4),
  );
  return {
    name: 'deployment-watch',
    async start(signal, report) {
      report('running', `every ${everyMs} ms`);
      while (await sleep(everyMs, true, { signal }).catch(() => false)) {
        const lost = await local.sweepDeployments().catch((e: unknown) => {
          logger.log('error', 'deployment watch failed', {
            error: errorText(e),
          });
          return 0;
        });
        if (lost > 0) logger.log('info', 'deployments failed: agent lost', { count: lost });
      }
    },
  };
}

export async function serveRepository(
  settings: ServerSettings,
  options: ServeOptions,
): Promise<{ server: RunningServer; app: LocalApp }> {
  const { logger } = options;
  logger.log('info', 'starting', { settings: redactSettings(settings) });
  const local = await LocalApp.openConfigured(settings);
  try {
    const file = initialPasswordPath(settings.data);
    const admin = await local.ensureFirstAdmin({ user: 'server', client: 'local' }, keepInFile(file));
    if (admin !== null) {
      logger.log('info', 'first admin created; its password is in the file named here', {
        user: admin.name,
        file,
      });
      options.onFirstAdmin?.({ ...admin, file });
    }
    const statuses = options.statuses ?? new ServiceStatuses();
    const metrics = new ServerMetrics({ figures: () => local.figures(), processFigures: true });
    const extras = options.extras?.(local, metrics) ?? {};
    const { app } = createApp({
      backend: local,
      events: local.events,
      logger,
      version: serverVersion(),
      maxJsonBodyBytes: settings.maxJsonBodyBytes,
      statuses,
      metrics,
      metricsAccess: settings.metrics,
      ...(extras.mounts === undefined ? {} : { mounts: extras.mounts }),
    });
    serveConsole(app, consoleDirectory());
    const server = await startServer({
      host: settings.host,
      port: settings.port,
      tls: settings.tls,
      bootListen: settings.bootListen,
      ...(options.onListening === undefined ? {} : { onListening: options.onListening }),
      fetch: app.fetch,
      logger,
      services: [deploymentWatch(local, logger), ...(extras.services ?? [])],
      handleSignals: options.handleSignals ?? false,
      statuses,
    });
    void server.done.finally(() => local.close()).catch(() => undefined);
    // Builds run once the server listens: a start that fails (a port in use) leaves them queued.
    await local.serveBuilds().catch((e: unknown) => {
      logger.log('error', 'builds cannot run', { error: e instanceof Error ? e.message : String(e) });
    });
    return { server, app: local };
  } catch (e) {
    await local.close();
    throw e;
  }
}
