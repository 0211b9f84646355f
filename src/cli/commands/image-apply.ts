// `winsmith image apply FILE.wim[:I] TARGET`: an image onto a new directory or an NTFS volume.

import { applyImage } from '../../image/wim-ops.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const imageApply: CliCommand = {
  path: ['image', 'apply'],
  summary: 'apply one image of a WIM to a new directory, or to an empty NTFS volume (file or block device)',
  define(command) {
    command
      .argument(
        '<image>',
        'FILE.wim[:INDEX] (split WIMs: the first .swm; the other parts are found beside it)',
      )
      .argument(
        '<target>',
        'a directory to create, or an NTFS volume (mkntfs -F -Q made) in a file or block device',
      );
    addForceOption(command, 'a directory TARGET');
  },
  async run(ctx, args, options) {
    const ref = String(args[0]);
    const target = String(args[1]);
    await applyImage(ref, target, ctx.progress, { overwrite: forceGiven(options) });
    return { data: { image: ref, target }, text: `applied ${ref} to ${target}` };
  },
};
