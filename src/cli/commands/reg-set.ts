// `winsmith reg set HIVE KEY VALUE --type T --data D`: set one value (creating the key), in place.

import {
  openHiveFile,
  regSetData,
  resolveKeyPath,
  SETTABLE_TYPES,
  writeHiveFile,
} from '../../image/registry.ts';
import type { CliCommand } from '../command.ts';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export const regSet: CliCommand = {
  path: ['reg', 'set'],
  summary: 'set a registry value, creating its key when missing',
  define(command) {
    command
      .argument('<hive>', 'the hive file, changed in place')
      .argument('<key>', "the key, relative to the hive root, e.g. '\\Software\\Contoso'")
      .argument('<value>', "the value name ('' is the default value)")
      .requiredOption('--type <type>', `the value type: ${SETTABLE_TYPES.join(', ')}`)
      .option(
        '--data <data>',
        'the data: text; an integer (decimal or 0x hex) for REG_DWORD/REG_QWORD; hex bytes for ' +
          'REG_BINARY/REG_NONE; for REG_MULTI_SZ repeat --data or give a JSON array',
        collect,
      )
      .option('--replay-logs', "apply the hive's transaction logs (.LOG1/.LOG2/.LOG) when it is dirty");
  },
  async run(_ctx, args, options) {
    const hivePath = String(args[0]);
    const keyPath = String(args[1]);
    const name = String(args[2]);
    const given = Array.isArray(options.data) ? options.data.map(String) : [];
    const { type, data } = regSetData(String(options.type), given);
    const hive = await openHiveFile(hivePath, { replayLogs: options.replayLogs === true });
    const key = hive.ensureKey(resolveKeyPath(hive, keyPath));
    key.setValue(name, type, data);
    await writeHiveFile(hivePath, hive, { overwrite: true });
    return {
      data: {
        hive: hivePath,
        key: key.path,
        name,
        type: String(options.type).toUpperCase(),
        bytes: data.length,
      },
      text: `set ${key.path} '${name}' (${String(options.type).toUpperCase()}, ${data.length} bytes) in ${hivePath}`,
    };
  },
};
