// `winsmith tag SRC DST`: points DST at the image SRC points at.

import { formatImageRef, parseImageRef } from '../../core/names.ts';
import type { CliCommand } from '../command.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const tag: CliCommand = {
  path: ['tag'],
  summary: 'point NAME:TAG DST at the image SRC points at (tags move; history is kept)',
  define(command) {
    command.argument('<src>', 'NAME:TAG of an existing image').argument('<dst>', 'NAME:TAG to set');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const source = parseImageRef(String(args[0]));
    const target = parseImageRef(String(args[1]));
    return withRepository(options, async ({ images: repo }) => {
      const image = await repo.tag(source, target);
      return { data: image, text: `${formatImageRef(target)} → ${image.digest}` };
    });
  },
};
