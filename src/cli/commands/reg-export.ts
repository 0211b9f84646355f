// `winsmith reg export HIVE`: a hive, or one key of it, as regedit's .reg text or as JSON.

import { writeFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { regKeysToJson } from '../../formats/regf/reg-json.ts';
import { formatRegText, serializeRegText } from '../../formats/regf/reg-text.ts';
import { openHiveFile, regTextOfKey, requireKey } from '../../image/registry.ts';
import { writeOutputFile } from '../../io/output.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

const ENCODINGS = ['utf-16le', 'utf-8'] as const;

export const regExport: CliCommand = {
  path: ['reg', 'export'],
  summary: 'export a registry hive (or one key) as Regedit 5.00 .reg text, or JSON with --json',
  define(command) {
    command
      .argument('<hive>', 'the hive file')
      .option('--key <path>', "export only this key and those below it, e.g. '\\Objects'", '\\')
      .option('--prefix <key>', "write key paths under this key, e.g. 'HKEY_LOCAL_MACHINE\\SOFTWARE'")
      .option('--output <file>', 'write the .reg file here instead of printing it')
      .option('--encoding <encoding>', `encoding of --output: ${ENCODINGS.join(' or ')}`, 'utf-16le')
      .option('--replay-logs', "apply the hive's transaction logs (.LOG1/.LOG2/.LOG) when it is dirty")
      .addHelpText(
        'after',
        '\nWithout --output the text is printed (UTF-8). With --json the keys are printed as JSON:\n' +
          '[{"path":"\\\\Key","values":[{"name","type","data"}]}]',
      );
    addForceOption(command, '--output');
  },
  async run(ctx, args, options) {
    const hivePath = String(args[0]);
    const encoding = String(options.encoding);
    if (!(ENCODINGS as readonly string[]).includes(encoding)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `--encoding must be ${ENCODINGS.join(' or ')}, found '${encoding}'`,
      );
    }
    const hive = await openHiveFile(hivePath, { replayLogs: options.replayLogs === true });
    const key = requireKey(hive, String(options.key), hivePath);
    const pathOptions = typeof options.prefix === 'string' ? { prefix: options.prefix } : {};
    const output = typeof options.output === 'string' ? options.output : undefined;
    if (output === undefined) {
      if (ctx.json) return { data: regKeysToJson(key), text: '' };
      return { data: null, text: formatRegText(regTextOfKey(key), pathOptions) };
    }
    const reg = regTextOfKey(key);
    const bytes = serializeRegText(reg, {
      ...pathOptions,
      encoding: encoding === 'utf-8' ? 'utf-8' : 'utf-16le',
    });
    await writeOutputFile(output, (tmp) => writeFile(tmp, bytes), { overwrite: forceGiven(options) });
    return {
      data: { output, keys: reg.sections.length, bytes: bytes.length },
      text: `wrote ${reg.sections.length} keys of ${hivePath} to ${output} (${encoding})`,
    };
  },
};
