// `winsmith media extract ISO -o DIR`: the install image and boot.wim of Windows installation media
// into a new directory (or, with --all, the whole media), all or nothing.

import { extractMedia } from '../../image/media.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';
import { formatBytes, formatTable } from '../format.ts';

export const mediaExtract: CliCommand = {
  path: ['media', 'extract'],
  summary: 'extract install.wim (or install.esd) and boot.wim from a Windows ISO',
  define(command) {
    command
      .argument('<iso>', 'the Windows installation ISO (UDF)')
      .requiredOption('-o, --output <dir>', 'the directory to create')
      .option('--all', 'extract the whole media, folders kept, not only the images');
    addForceOption(command, 'the output directory');
  },
  async run(ctx, args, options) {
    const output = String(options.output);
    const files = await extractMedia(String(args[0]), output, {
      all: options.all === true,
      overwrite: forceGiven(options),
      onProgress: ctx.progress,
    });
    const total = files.reduce((sum, f) => sum + f.size, 0);
    const text =
      files.length > 20
        ? `extracted ${files.length} files (${formatBytes(total)}) into ${output}`
        : `${formatTable(
            ['FILE', 'SIZE'],
            files.map((f) => [f.path, formatBytes(f.size)]),
          )}\nextracted into ${output}`;
    return { data: { output, files }, text };
  },
};
