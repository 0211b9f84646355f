// `winsmith machine add|show|set|rm|approve|password`: one machine of a repository, found by id,
// MAC or name. `add` registers a machine before it boots (by MAC and/or SMBIOS UUID, with a name);
// it is ready at once, where a machine that registers itself by booting waits as pending until
// `approve`. `password` prints the administrator password its last deployment set (audited).

import type { Command } from 'commander';
import type { CliCommand } from '../command.ts';
import { machineText } from '../machine-text.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function labelOption(command: Command, what: string): Command {
  return command.option('--label <label>', `${what} (repeatable), e.g. web or rack-a1`, collect, []);
}

export const machineAdd: CliCommand = {
  path: ['machine', 'add'],
  summary: 'register a machine before it boots, by MAC and/or SMBIOS UUID, with a name',
  define(command) {
    command
      .argument('<name>', 'the machine name, e.g. web-01')
      .option('--mac <mac>', 'its MAC address, e.g. 52:54:00:12:34:56')
      .option('--uuid <uuid>', 'its SMBIOS UUID');
    labelOption(command, 'a label');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const request = {
      name: String(args[0]),
      ...(typeof options.mac === 'string' ? { mac: options.mac } : {}),
      ...(typeof options.uuid === 'string' ? { smbiosUuid: options.uuid } : {}),
      labels: options.label as string[],
    };
    return withRepository(options, async (session) => {
      const machine = await session.machines.add(request);
      return { data: machine, text: machineText(machine) };
    });
  },
};

export const machineShow: CliCommand = {
  path: ['machine', 'show'],
  summary: 'show one machine: identity, inventory, state, labels, last check-in, deployment',
  define(command) {
    command.argument('<machine>', 'its id, MAC or name');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const machine = await session.machines.get(String(args[0]));
      return { data: machine, text: machineText(machine) };
    });
  },
};

export const machineSet: CliCommand = {
  path: ['machine', 'set'],
  summary: "change a machine's name or labels (--label replaces them all; --no-labels clears them)",
  define(command) {
    command.argument('<machine>', 'its id, MAC or name').option('--name <name>', 'its new name');
    labelOption(command, 'a label it gets instead of the ones it has');
    command.option('--no-labels', 'remove every label');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const labels = options.label as string[];
    const changes = {
      ...(typeof options.name === 'string' ? { name: options.name } : {}),
      ...(options.labels === false ? { labels: [] } : labels.length > 0 ? { labels } : {}),
    };
    return withRepository(options, async (session) => {
      const machine = await session.machines.set(String(args[0]), changes);
      return { data: machine, text: machineText(machine) };
    });
  },
};

export const machineRm: CliCommand = {
  path: ['machine', 'rm'],
  summary: 'forget a machine and its deployments (it registers again, pending, when it next boots)',
  define(command) {
    command.argument('<machine>', 'its id, MAC or name');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const key = String(args[0]);
    return withRepository(options, async (session) => {
      await session.machines.remove(key);
      return { data: { removed: key }, text: `removed machine ${key}` };
    });
  },
};

export const machineApprove: CliCommand = {
  path: ['machine', 'approve'],
  summary: 'approve a machine that registered itself by booting (pending → ready): it may then be deployed',
  define(command) {
    command.argument('<machine>', 'its id, MAC or name');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const machine = await session.machines.approve(String(args[0]));
      return { data: machine, text: machineText(machine) };
    });
  },
};

export const machinePassword: CliCommand = {
  path: ['machine', 'password'],
  summary: 'print the administrator password the machine’s last deployment set (the read is audited)',
  define(command) {
    command.argument('<machine>', 'its id, MAC or name');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    return withRepository(options, async (session) => {
      const found = await session.machines.password(String(args[0]));
      return { data: found, text: found.password };
    });
  },
};
