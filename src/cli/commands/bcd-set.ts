// `winsmith bcd set STORE OBJECT ELEMENT VALUE`: set one element of one object, in place.

import { elementLabel, openBcdFile, setElementFromText, writeBcdFile } from '../../image/bcd.ts';
import { aliasOf, formatValue, valueToJson } from '../../formats/bcd/index.ts';
import type { CliCommand } from '../command.ts';

export const bcdSet: CliCommand = {
  path: ['bcd', 'set'],
  summary: 'set an element of a BCD object (like bcdedit /set)',
  define(command) {
    command
      .argument('<store>', 'the BCD file, changed in place')
      .argument('<object>', 'the object: a GUID, a well-known alias such as {bootmgr}, or {default}')
      .argument(
        '<element>',
        'a bcdedit element name (description, path, timeout, osdevice, …) or its 8-hex-digit type',
      )
      .argument(
        '<value>',
        'text; an integer; yes/no; GUIDs or aliases separated by commas; a device: boot, gpt:DISK:PART, ' +
          'mbr:SIGNATURE:OFFSET, ramdisk:\\sources\\boot.wim',
      )
      .option('--replay-logs', "apply the store's transaction logs when it is dirty");
  },
  async run(_ctx, args, options) {
    const path = String(args[0]);
    const store = await openBcdFile(path, { replayLogs: options.replayLogs === true });
    const {
      id: ref,
      type,
      value,
    } = setElementFromText(store, String(args[1]), String(args[2]), String(args[3]));
    await writeBcdFile(path, store, { overwrite: true });
    const name = elementLabel(store, ref, type);
    return {
      data: {
        store: path,
        object: ref,
        element: type.toString(16).padStart(8, '0'),
        name,
        value: valueToJson(value),
      },
      text: `set ${name} of ${aliasOf(ref) ?? ref} to ${formatValue(value).join(', ')}`,
    };
  },
};
