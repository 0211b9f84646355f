// `winsmith server`: the repository over HTTP until SIGINT/SIGTERM. Logs are JSON lines on stderr.

import { loadServerSettings } from '../../config/server-config.ts';
import { createJsonLogger } from '../../server/log.ts';
import { serveRepository } from '../../server/serve.ts';
import type { CliCommand } from '../command.ts';
import { prepareNetboot } from '../../app/netboot.ts';
import { addBootOptions, bootSettingsOf } from '../boot-options.ts';

export const server: CliCommand = {
  path: ['server'],
  summary:
    'serve a repository over HTTP (SQLite + files under --data by default; PostgreSQL + S3 from --config)',
  define(command) {
    command
      .option('--config <file>', 'YAML server config (see docs/server.md)')
      .option(
        '--data <dir>',
        'data directory (default $WINSMITH_DATA, else ./winsmith-data from the start folder; the systemd unit uses /var/lib/winsmith)',
      )
      .option('--share <dir>', "the deployment share: files profiles' steps name (default DATA/share)")
      .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8080; port 0 = any free port)')
      .option(
        '--log-level <level>',
        'least level logged: debug, info, warn, error (default info, or log.level)',
      );
    addBootOptions(command);
  },
  async run(_ctx, _args, options) {
    const configured = await loadServerSettings({
      config: options.config as string | undefined,
      data: options.data as string | undefined,
      listen: options.listen as string | undefined,
      share: options.share as string | undefined,
      logLevel: options.logLevel as string | undefined,
    });
    const logger = createJsonLogger(process.stderr, configured.logLevel);
    const boot = bootSettingsOf(options, configured.data, configured.uefiChain);
    // Multicast sessions send on the boot network's interface, unless the config names another.
    const bootInterface = boot?.dhcp?.interface ?? null;
    const settings =
      configured.multicast.interface === null && bootInterface !== null
        ? { ...configured, multicast: { ...configured.multicast, interface: bootInterface } }
        : configured;
    const netboot = boot === null ? null : await prepareNetboot(boot, logger);
    const { server: running } = await serveRepository(settings, {
      logger,
      handleSignals: true,
      ...(netboot === null
        ? {}
        : {
            extras: (app, metrics) => {
              const parts = netboot(app, {
                count: (event) => metrics.boot(event),
                dataDir: settings.data,
                listen: { host: settings.host, port: settings.port },
                registration: {
                  perAddressPerMinute: settings.registrationsPerMinute,
                  maxPending: settings.maxPendingMachines,
                },
              });
              return { services: parts.services, mounts: [{ name: 'boot', app: parts.routes }] };
            },
          }),
      // The password goes to a terminal only: under a service manager stderr is the log stream.
      onFirstAdmin: (admin) => {
        if (!process.stderr.isTTY) return;
        process.stderr.write(
          `first start: created user '${admin.name}' with password ${admin.password}\n` +
            `(also in ${admin.file}; log in with 'winsmith login URL --user ${admin.name}')\n`,
        );
      },
    });
    await running.done;
    return { data: { stopped: running.url }, text: '' };
  },
};
