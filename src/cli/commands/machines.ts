// `winsmith machines`: the machines of a repository (registered by booting, or by an operator),
// with their state, name, labels, MAC, SMBIOS UUID, maker and model, firmware, Secure Boot as last
// reported, last seen and last
// boot check-in, and assigned deployment; filtered by state and label.

import { listAllMachines, type MachineView } from '../../app/session.ts';
import type { CliCommand } from '../command.ts';
import { formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';
import { checkInOf, machineState, secureBootText } from '../machine-text.ts';

function row(m: MachineView): string[] {
  const maker = [m.manufacturer, m.product].filter((x) => x !== null).join(' ');
  const firmware = [m.platform, m.arch].filter((x) => x !== null).join('/');
  const checkIn = checkInOf(m);
  return [
    m.name ?? '-',
    m.state,
    m.mac ?? '-',
    m.smbiosUuid ?? '-',
    maker === '' ? '-' : maker,
    firmware === '' ? '-' : firmware,
    secureBootText(m.secureBoot),
    m.labels.length === 0 ? '-' : m.labels.join(','),
    m.lastSeen,
    checkIn === null ? '-' : `${checkIn.at}${checkIn.address === null ? '' : ` from ${checkIn.address}`}`,
    m.deployment === null ? '-' : `${m.deployment.id} (${m.deployment.state})`,
  ];
}

export const machines: CliCommand = {
  path: ['machines'],
  summary: 'list the machines of a repository, registered by booting or by an operator',
  define(command) {
    command
      .option('--state <state>', 'only machines in this state: pending (registered by booting) or ready')
      .option('--label <label>', 'only machines with this label');
    addRepoOption(command);
  },
  async run(_ctx, _args, options) {
    const filter = {
      ...(typeof options.state === 'string' ? { state: machineState(options.state) } : {}),
      ...(typeof options.label === 'string' ? { label: options.label } : {}),
    };
    return withRepository(options, async (session) => {
      const list = await listAllMachines(session.machines, filter);
      const header = [
        'NAME',
        'STATE',
        'MAC',
        'UUID',
        'MACHINE',
        'FIRMWARE',
        'SECURE BOOT',
        'LABELS',
        'LAST SEEN',
        'CHECK-IN',
        'DEPLOYMENT',
      ];
      return {
        data: list,
        text: list.length === 0 ? 'no machines' : formatTable(header, list.map(row)),
      };
    });
  },
};
