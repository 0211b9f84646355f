// `winsmith reg delete HIVE KEY [VALUE]`: delete a key with everything below it, or one value.

import { AppError } from '../../core/errors.ts';
import { openHiveFile, requireKey, writeHiveFile } from '../../image/registry.ts';
import type { CliCommand } from '../command.ts';

export const regDelete: CliCommand = {
  path: ['reg', 'delete'],
  summary: 'delete a registry key (with its subkeys) or one value',
  define(command) {
    command
      .argument('<hive>', 'the hive file, changed in place')
      .argument('<key>', "the key, relative to the hive root, e.g. '\\Software\\Contoso'")
      .argument('[value]', "delete only this value ('' is the default value)")
      .option('--replay-logs', "apply the hive's transaction logs (.LOG1/.LOG2/.LOG) when it is dirty");
  },
  async run(_ctx, args, options) {
    const hivePath = String(args[0]);
    const hive = await openHiveFile(hivePath, { replayLogs: options.replayLogs === true });
    const key = requireKey(hive, String(args[1]), hivePath);
    let text: string;
    if (typeof args[2] === 'string') {
      if (!key.deleteValue(args[2])) {
        throw new AppError('NOT_FOUND', `key ${key.path} of ${hivePath} has no value '${args[2]}'`, {
          hint: `list its values with 'winsmith reg get ${hivePath} '${key.path}''`,
        });
      }
      text = `deleted value '${args[2]}' of ${key.path} in ${hivePath}`;
    } else {
      if (key.path === '\\') {
        throw new AppError('INVALID_ARGUMENT', 'the root key of a hive cannot be deleted', {
          hint: 'delete its subkeys one by one, or create a new hive with winsmith reg new',
        });
      }
      hive.deleteKey(key.path);
      text = `deleted key ${key.path} in ${hivePath}`;
    }
    await writeHiveFile(hivePath, hive, { overwrite: true });
    return {
      data: { hive: hivePath, key: key.path, value: typeof args[2] === 'string' ? args[2] : null },
      text,
    };
  },
};
