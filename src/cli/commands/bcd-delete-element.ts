// `winsmith bcd delete-element STORE OBJECT ELEMENT`: remove one element of one object, in place.

import { AppError } from '../../core/errors.ts';
import { elementLabel, openBcdFile, resolveElementType, writeBcdFile } from '../../image/bcd.ts';
import { aliasOf } from '../../formats/bcd/index.ts';
import type { CliCommand } from '../command.ts';

export const bcdDeleteElement: CliCommand = {
  path: ['bcd', 'delete-element'],
  summary: 'delete an element of a BCD object (like bcdedit /deletevalue)',
  define(command) {
    command
      .argument('<store>', 'the BCD file, changed in place')
      .argument('<object>', 'the object: a GUID, a well-known alias such as {bootmgr}, or {default}')
      .argument('<element>', 'a bcdedit element name or its 8-hex-digit type')
      .option('--replay-logs', "apply the store's transaction logs when it is dirty");
  },
  async run(_ctx, args, options) {
    const path = String(args[0]);
    const store = await openBcdFile(path, { replayLogs: options.replayLogs === true });
    const ref = store.resolve(String(args[1]));
    const type = resolveElementType(store, ref, String(args[2]));
    const name = elementLabel(store, ref, type);
    if (!store.deleteElement(ref, type)) {
      throw new AppError('NOT_FOUND', `object ${ref} of ${path} has no element ${name}`, {
        hint: `list its elements with 'winsmith bcd show ${path}'`,
      });
    }
    await writeBcdFile(path, store, { overwrite: true });
    return {
      data: { store: path, object: ref, element: type.toString(16).padStart(8, '0'), name },
      text: `deleted ${name} of ${aliasOf(ref) ?? ref}`,
    };
  },
};
