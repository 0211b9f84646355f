// `winsmith server`: the repository over HTTP (HTTPS with --tls-cert/--tls-key, the boot routes then
// on a plain --boot-listen when asked) until SIGINT/SIGTERM. Logs are JSON lines on stderr.

import { loadServerSettings } from '../../config/server-config.ts';
import { createJsonLogger } from '../../server/log.ts';
import { serveRepository } from '../../server/serve.ts';
import type { CliCommand } from '../command.ts';
import { prepareNetboot, type BootListen } from '../../app/netboot.ts';
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
      )
      .option('--tls-cert <file>', 'serve HTTPS only, with this PEM certificate (its chain after it)')
      .option('--tls-key <file>', 'the PEM private key of --tls-cert')
      .option(
        '--boot-listen <host:port>',
        'a plain-HTTP listener for the boot routes and the deploy agent only, beside an HTTPS --listen',
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
      tlsCert: options.tlsCert as string | undefined,
      tlsKey: options.tlsKey as string | undefined,
      bootListen: options.bootListen as string | undefined,
    });
    const logger = createJsonLogger(process.stderr, configured.logLevel);
    const boot = bootSettingsOf(
      options,
      configured.data,
      configured.uefiChain,
      configured.bootListen !== null,
    );
    // Multicast sessions send on the boot network's interface, unless the config names another.
    const bootInterface = boot?.dhcp?.interface ?? null;
    const settings =
      configured.multicast.interface === null && bootInterface !== null
        ? { ...configured, multicast: { ...configured.multicast, interface: bootInterface } }
        : configured;
    const netboot = boot === null ? null : await prepareNetboot(boot, logger);
    // Where machines are sent: the plain boot listener when there is one (its real port once it
    // listens), else the server's own listener.
    let bootListen: BootListen =
      settings.bootListen === null
        ? { host: settings.host, port: settings.port, secure: settings.tls !== null }
        : { ...settings.bootListen, secure: false };
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
                listen: () => bootListen,
                registration: {
                  perAddressPerMinute: settings.registrationsPerMinute,
                  maxPending: settings.maxPendingMachines,
                },
              });
              return { services: parts.services, mounts: [{ name: 'boot', app: parts.routes }] };
            },
          }),
      onListening: ({ port, bootPort }) => {
        bootListen = { ...bootListen, port: bootPort ?? port };
      },
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
