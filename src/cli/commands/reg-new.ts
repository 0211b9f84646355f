// `winsmith reg new OUT`: a new, empty registry hive.

import { Hive } from '../../formats/regf/index.ts';
import { writeHiveFile } from '../../image/registry.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const regNew: CliCommand = {
  path: ['reg', 'new'],
  summary: 'create a new empty registry hive file',
  define(command) {
    command
      .argument('<out>', 'the hive file to create')
      .option('--root <name>', 'the name of the root key (a BCD store uses NewStoreRoot)', 'ROOT');
    addForceOption(command, 'the file');
  },
  async run(_ctx, args, options) {
    const out = String(args[0]);
    const root = String(options.root);
    await writeHiveFile(out, Hive.create(root), { overwrite: forceGiven(options) });
    return { data: { hive: out, root }, text: `created ${out} (root key ${root})` };
  },
};
