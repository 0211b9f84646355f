// `winsmith tag history NAME:TAG`: each move of a tag, newest first: when, by whom, the digest it
// left and the one it took (a removal takes none).

import { formatImageRef, parseImageRef } from '../../core/names.ts';
import type { CliCommand } from '../command.ts';
import { formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

function digestText(digest: string | null, none: string): string {
  return digest === null ? none : `sha256:${digest.slice(0, 12)}`;
}

export const tagHistory: CliCommand = {
  path: ['tag', 'history'],
  summary: 'show each move of NAME:TAG, newest first: when, by whom, the digest before and after',
  define(command) {
    command.argument('<ref>', 'NAME:TAG');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const ref = parseImageRef(String(args[0]));
    return withRepository(options, async ({ images }) => {
      const changes = await images.tagHistory(ref);
      return {
        data: changes,
        text: `${formatImageRef(ref)}\n${formatTable(
          ['WHEN', 'BY', 'FROM', 'TO'],
          changes.map((c) => [
            c.changedAt,
            c.changedBy ?? '-',
            digestText(c.previousDigest, '-'),
            digestText(c.digest, 'removed'),
          ]),
        )}`,
      };
    });
  },
};
