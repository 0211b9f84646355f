// `winsmith images`: the images of a repository.

import type { ImageSummary } from '../../store/repository.ts';
import type { CliCommand } from '../command.ts';
import { formatBytes, formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

/** Where an image came from, in a few words: the machine captured, the image it was made from, the ISO. */
function lineageText(i: ImageSummary): string {
  if (i.capturedFrom !== null) return `captured from ${i.capturedFrom}`;
  if (i.parentDigest !== null) return `sha256:${i.parentDigest.slice(0, 12)}`;
  if (i.sourceIsoSha256 !== null) return `ISO ${i.sourceIsoSha256.slice(0, 12)}`;
  return '-';
}

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
        ['NAME', 'TAG', 'DIGEST', 'SIZE', 'EDITIONS', 'FROM', 'PUSHED BY', 'PUSHED AT'],
        list.map((i) => [
          i.name,
          i.tag,
          i.digest.slice(0, 12),
          formatBytes(i.size),
          String(i.editions.length),
          lineageText(i),
          i.pushedBy ?? '-',
          i.pushedAt,
        ]),
      );
      return { data: list, text: list.length === 0 ? 'no images' : text };
    });
  },
};
