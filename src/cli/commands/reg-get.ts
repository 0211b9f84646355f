// `winsmith reg get HIVE KEY [VALUE]`: one key (its subkeys and values) or one value's data.

import { AppError } from '../../core/errors.ts';
import { regValueToJson, type RegJsonValue } from '../../formats/regf/reg-json.ts';
import { openHiveFile, requireKey } from '../../image/registry.ts';
import type { CliCommand } from '../command.ts';
import { formatTable } from '../format.ts';

function shown(value: RegJsonValue): string {
  return typeof value.data === 'string' || typeof value.data === 'number'
    ? String(value.data)
    : JSON.stringify(value.data);
}

export const regGet: CliCommand = {
  path: ['reg', 'get'],
  summary: "show a registry key's subkeys and values, or one value's data",
  define(command) {
    command
      .argument('<hive>', 'the hive file')
      .argument('<key>', "the key, relative to the hive root, e.g. '\\Objects' ('\\' is the root)")
      .argument('[value]', "the value name ('' is the default value)")
      .option('--replay-logs', "apply the hive's transaction logs (.LOG1/.LOG2/.LOG) when it is dirty");
  },
  async run(_ctx, args, options) {
    const hivePath = String(args[0]);
    const hive = await openHiveFile(hivePath, { replayLogs: options.replayLogs === true });
    const key = requireKey(hive, String(args[1]), hivePath);
    if (typeof args[2] === 'string') {
      const name = args[2];
      const value = key.value(name);
      if (value === undefined) {
        throw new AppError('NOT_FOUND', `key ${key.path} of ${hivePath} has no value '${name}'`, {
          hint: `list its values with 'winsmith reg get ${hivePath} '${key.path}''`,
        });
      }
      const json = regValueToJson(value);
      const text = Array.isArray(json.data) ? json.data.join('\n') : shown(json);
      return { data: json, text };
    }
    const values = key.values().map(regValueToJson);
    const subkeys = key.subkeys().map((k) => k.name);
    const lines = [`key: ${key.path}`, `subkeys (${subkeys.length}):`, ...subkeys.map((s) => `  ${s}`)];
    lines.push(`values (${values.length}):`);
    if (values.length > 0) {
      const rows = values.map((v) => [v.name === '' ? '(default)' : v.name, v.type, shown(v)]);
      lines.push(
        ...formatTable(['NAME', 'TYPE', 'DATA'], rows)
          .split('\n')
          .map((l) => `  ${l}`),
      );
    }
    return { data: { path: key.path, subkeys, values }, text: lines.join('\n') };
  },
};
