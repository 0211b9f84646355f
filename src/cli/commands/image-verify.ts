// `winsmith image verify FILE.wim`: every image's metadata and every file's SHA-1 checked.

import { verifyImage } from '../../image/wim-ops.ts';
import type { CliCommand } from '../command.ts';

export const imageVerify: CliCommand = {
  path: ['image', 'verify'],
  summary: "check a WIM: its integrity table, each image's metadata and each file's SHA-1",
  define(command) {
    command.argument('<file>', 'the WIM (split WIMs: the first .swm; the other parts are found beside it)');
  },
  async run(ctx, args) {
    const file = String(args[0]);
    await verifyImage(file, ctx.progress);
    return { data: { file, ok: true }, text: `${file}: verified, no errors` };
  },
};
