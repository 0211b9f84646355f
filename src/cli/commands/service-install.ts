// `winsmith service install`: winsmith server as a systemd service (src/app/service-install.ts):
// the unit, the `winsmith` user, the config and data folders. --dry-run shows the plan and the
// unit; --root writes into a staging tree instead of this machine.

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors.ts';
import { installService, SERVICE_DEFAULTS } from '../../app/service-install.ts';
import type { CliCommand } from '../command.ts';

/** The launcher of this checkout (bin/winsmith), which ExecStart runs unless --bin names another. */
const LAUNCHER = fileURLToPath(new URL('../../../bin/winsmith', import.meta.url));

function absolute(value: unknown, fallback: string, flag: string): string {
  const path = typeof value === 'string' ? value : fallback;
  if (!isAbsolute(path)) {
    throw new AppError('USAGE', `${flag} must be an absolute path, found '${path}'`, {
      hint: 'a service does not depend on the folder it is started from: give the whole path',
    });
  }
  return path;
}

export const serviceInstall: CliCommand = {
  path: ['service', 'install'],
  summary: 'install winsmith server as a systemd service: unit, winsmith user, config and data folders',
  define(command) {
    command
      .option(
        '--config <file>',
        `the server config the service reads (default ${SERVICE_DEFAULTS.config}; written when absent)`,
      )
      .option('--data <dir>', `the data directory a new config names (default ${SERVICE_DEFAULTS.data})`)
      .option('--listen <host:port>', `where a new config listens (default ${SERVICE_DEFAULTS.listen})`)
      .option('--user <name>', `the system user the service runs as (default ${SERVICE_DEFAULTS.user})`)
      .option(
        '--bin <file>',
        'the winsmith launcher ExecStart runs (default: bin/winsmith of this installation)',
      )
      .option('--root <dir>', 'write into this staging tree instead of / (for packaging and tests)')
      .option('--force', 'replace a unit file that differs')
      .option('--dry-run', 'show what would be done and the unit, change nothing');
  },
  async run(_ctx, _args, options) {
    const result = await installService({
      root: typeof options.root === 'string' ? resolve(options.root) : '/',
      bin: typeof options.bin === 'string' ? resolve(options.bin) : LAUNCHER,
      user: typeof options.user === 'string' ? options.user : SERVICE_DEFAULTS.user,
      config: absolute(options.config, SERVICE_DEFAULTS.config, '--config'),
      data: absolute(options.data, SERVICE_DEFAULTS.data, '--data'),
      listen: typeof options.listen === 'string' ? options.listen : SERVICE_DEFAULTS.listen,
      unit: SERVICE_DEFAULTS.unit,
      force: options.force === true,
      dryRun: options.dryRun === true,
    });
    const lines = result.steps.map(
      (s) => `${s.done.padEnd(8)} ${s.action.padEnd(9)} ${s.path}  (${s.detail})`,
    );
    const text =
      options.dryRun === true
        ? [...lines, '', `--- ${SERVICE_DEFAULTS.unit}`, result.unitText].join('\n')
        : [...lines, '', 'then:', ...result.next.map((n) => `  ${n}`)].join('\n');
    return { data: result, text };
  },
};
