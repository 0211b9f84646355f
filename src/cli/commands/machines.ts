// `winsmith machines`: the machines the boot server has registered (MAC, SMBIOS UUID, maker and
// model, firmware, first and last seen, last boot check-in, assigned deployment), read from the
// catalog of a data directory (--data, or --config for a server configuration file).

import { access } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { loadServerSettings } from '../../config/server-config.ts';
import { Catalog, type Machine } from '../../store/catalog/catalog.ts';
import type { CliCommand } from '../command.ts';

function checkInOf(m: Machine): { at: string; address: string | null } | null {
  const c = m.inventory['checkIn'];
  if (typeof c !== 'object' || c === null) return null;
  const { at, address } = c as Record<string, unknown>;
  if (typeof at !== 'string') return null;
  return { at, address: typeof address === 'string' ? address : null };
}

function row(m: Machine): string[] {
  const maker = [m.manufacturer, m.product].filter((x) => x !== null).join(' ');
  const firmware = [m.platform, m.arch].filter((x) => x !== null).join('/');
  const checkIn = checkInOf(m);
  return [
    m.mac,
    m.smbiosUuid ?? '-',
    maker === '' ? '-' : maker,
    firmware === '' ? '-' : firmware,
    m.firstSeen,
    m.lastSeen,
    checkIn === null ? '-' : `${checkIn.at}${checkIn.address === null ? '' : ` from ${checkIn.address}`}`,
    m.deploymentId ?? '-',
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const machines: CliCommand = {
  path: ['machines'],
  summary: 'list the machines the boot server has registered',
  define(command) {
    command
      .option('--data <dir>', 'data directory of the server (default $WINSMITH_DATA or ./winsmith-data)')
      .option('--config <file>', 'server configuration file (YAML) naming the catalog');
  },
  async run(_ctx, _args, options) {
    const settings = await loadServerSettings({
      config: typeof options.config === 'string' ? options.config : undefined,
      data: typeof options.data === 'string' ? options.data : undefined,
    });
    if (settings.catalog.kind === 'sqlite') {
      const path = settings.catalog.path;
      await access(path).catch((cause: unknown) => {
        throw new AppError('NOT_FOUND', `no catalog at ${path}`, {
          hint: 'give the data directory of a winsmith server with --data (or its configuration with --config)',
          cause,
        });
      });
    }
    const catalog = await Catalog.open(settings.catalog);
    try {
      const list = await catalog.listMachines();
      const data = list.map((m) => ({
        mac: m.mac,
        uuid: m.smbiosUuid,
        serial: m.serial,
        manufacturer: m.manufacturer,
        product: m.product,
        arch: m.arch,
        platform: m.platform,
        firstSeen: m.firstSeen,
        lastSeen: m.lastSeen,
        lastCheckIn: checkInOf(m),
        deployment: m.deploymentId,
      }));
      const header = [
        'MAC',
        'UUID',
        'MACHINE',
        'FIRMWARE',
        'FIRST SEEN',
        'LAST SEEN',
        'CHECK-IN',
        'DEPLOYMENT',
      ];
      return {
        data,
        text: list.length === 0 ? 'no machines registered' : table([header, ...list.map(row)]),
      };
    } finally {
      await catalog.close();
    }
  },
};
