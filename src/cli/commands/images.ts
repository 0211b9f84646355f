// `winsmith images`: the images of a repository.

import type { CliCommand } from '../command.ts';
import { formatBytes, formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const images: CliCommand = {
  path: ['images'],
  summary: 'list the images (NAME:TAG, digest, size, editions, pushed by/at) of a repository',
  define(command) {
    addRepoOption(command);
  },
  async run(_ctx, _args, options) {
    return withRepository(options, async ({ images: repo }) => {
      const list = await repo.listImages();
      const text = formatTable(
        ['NAME', 'TAG', 'DIGEST', 'SIZE', 'EDITIONS', 'PUSHED BY', 'PUSHED AT'],
        list.map((i) => [
          i.name,
          i.tag,
          i.digest.slice(0, 12),
          formatBytes(i.size),
          String(i.editions.length),
          i.pushedBy ?? '-',
          i.pushedAt,
        ]),
      );
      return { data: list, text: list.length === 0 ? 'no images' : text };
    });
  },
};
