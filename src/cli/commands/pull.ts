// `winsmith pull NAME:TAG -o FILE`: the exact bytes of an image, checked against its SHA-256.

import { formatImageRef, parseImageRef } from '../../core/names.ts';
import { pullFile } from '../../app/transfer.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';
import { formatBytes } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const pull: CliCommand = {
  path: ['pull'],
  summary: 'write the exact bytes of NAME:TAG to a file (resumes a broken download, checks SHA-256)',
  define(command) {
    command
      .argument('<ref>', 'NAME:TAG')
      .requiredOption(
        '-o, --output <file>',
        'where to write it (appears whole or not at all; an interrupted pull resumes from .FILE.partial)',
      );
    addForceOption(command, 'the output file');
    addRepoOption(command);
  },
  async run(ctx, args, options) {
    const ref = parseImageRef(String(args[0]));
    const out = String(options.output);
    return withRepository(options, async ({ images: repo }) => {
      const result = await pullFile(repo, ref, out, {
        overwrite: forceGiven(options),
        progress: ctx.progress,
      });
      return {
        data: result.image,
        text:
          `pulled ${formatImageRef(ref)} ${result.image.digest} → ${out} (${formatBytes(result.bytes)}, sha256 ${result.image.sha256})` +
          (result.resumedFrom > 0
            ? `\nresumed: ${formatBytes(result.resumedFrom)} of an earlier pull checked and kept`
            : ''),
      };
    });
  },
};
