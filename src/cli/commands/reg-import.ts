// `winsmith reg import HIVE FILE.reg`: apply a .reg file to a hive, written back atomically.

import { applyRegText, openHiveFile, readRegFile, writeHiveFile } from '../../image/registry.ts';
import type { CliCommand } from '../command.ts';

export const regImport: CliCommand = {
  path: ['reg', 'import'],
  summary: 'apply a Regedit 5.00 .reg file (UTF-16LE or UTF-8) to a registry hive',
  define(command) {
    command
      .argument('<hive>', 'the hive file, changed in place')
      .argument('<file>', 'the .reg file')
      .option(
        '--prefix <key>',
        "the key the hive's root stands for in the file, e.g. 'HKEY_LOCAL_MACHINE\\SOFTWARE'; " +
          "without it key paths must be relative to the hive root ('[\\Key\\Sub]')",
      )
      .option('--replay-logs', "apply the hive's transaction logs (.LOG1/.LOG2/.LOG) when it is dirty");
  },
  async run(ctx, args, options) {
    const hivePath = String(args[0]);
    const regPath = String(args[1]);
    const reg = await readRegFile(
      regPath,
      typeof options.prefix === 'string' ? { prefix: options.prefix } : {},
    );
    const hive = await openHiveFile(hivePath, { replayLogs: options.replayLogs === true });
    const summary = applyRegText(hive, reg, ctx.progress);
    await writeHiveFile(hivePath, hive, { overwrite: true });
    return {
      data: { hive: hivePath, ...summary },
      text:
        `${hivePath}: ${summary.keysCreated} keys created, ${summary.keysDeleted} deleted; ` +
        `${summary.valuesSet} values set, ${summary.valuesDeleted} deleted`,
    };
  },
};
