// `winsmith image rm NAME:TAG`: removes a tag (its chunks go at the next gc if unreferenced).

import { formatImageRef, parseImageRef } from '../../core/names.ts';
import type { CliCommand } from '../command.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const imageRm: CliCommand = {
  path: ['image', 'rm'],
  summary: 'remove NAME:TAG from a repository (the tag history keeps the removal)',
  define(command) {
    command.argument('<ref>', 'NAME:TAG');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const ref = parseImageRef(String(args[0]));
    return withRepository(options, async ({ images: repo }) => {
      await repo.removeTag(ref);
      return { data: { removed: formatImageRef(ref) }, text: `removed ${formatImageRef(ref)}` };
    });
  },
};
