// `winsmith image split FILE.wim OUT.swm --part-size MB`: a WIM into .swm parts (e.g. for FAT32).

import { AppError } from '../../core/errors.ts';
import { splitImage } from '../../image/wim-ops.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const imageSplit: CliCommand = {
  path: ['image', 'split'],
  summary: 'split a WIM into .swm parts of at most a given size (e.g. 4000 for a FAT32 stick)',
  define(command) {
    command
      .argument('<file>', 'the WIM to split')
      .argument('<out>', 'the first part, X.swm; the others become X2.swm, X3.swm, …')
      .requiredOption(
        '--part-size <MiB>',
        'the largest part size in MiB (a file bigger than that makes a bigger part)',
      );
    addForceOption(command, 'the parts of a split WIM of the same name');
  },
  async run(ctx, args, options) {
    const size = Number(options.partSize);
    if (!Number.isFinite(size) || size <= 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `--part-size "${String(options.partSize)}" is not a positive number of MiB`,
      );
    }
    const parts = await splitImage(String(args[0]), String(args[1]), size, ctx.progress, {
      overwrite: forceGiven(options),
    });
    return { data: { parts }, text: `wrote ${parts.length} part(s):\n${parts.join('\n')}` };
  },
};
