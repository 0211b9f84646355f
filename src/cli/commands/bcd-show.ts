// `winsmith bcd show STORE`: every object of a BCD store with its elements decoded, as
// `bcdedit /enum all` lists them (or as JSON with --json).

import { bcdObjectJson, bcdText, openBcdFile } from '../../image/bcd.ts';
import type { CliCommand } from '../command.ts';

export const bcdShow: CliCommand = {
  path: ['bcd', 'show'],
  summary: 'list the objects and elements of a BCD store',
  define(command) {
    command
      .argument('<store>', 'the BCD file, e.g. EFI/Microsoft/Boot/BCD or Boot/BCD')
      .option('--replay-logs', "apply the store's transaction logs (BCD.LOG1/.LOG2) when it is dirty");
  },
  async run(_ctx, args, options) {
    const store = await openBcdFile(String(args[0]), { replayLogs: options.replayLogs === true });
    const objects = store.objects();
    return { data: { objects: objects.map(bcdObjectJson) }, text: bcdText(objects) };
  },
};
