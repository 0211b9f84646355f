// `winsmith store stats`: logical vs stored bytes of a repository.

import type { CliCommand } from '../command.ts';
import { formatBytes, formatFields } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const storeStats: CliCommand = {
  path: ['store', 'stats'],
  summary: 'logical bytes (all artifacts), stored bytes (unique chunks), chunks and artifacts',
  define(command) {
    addRepoOption(command);
  },
  async run(_ctx, _args, options) {
    return withRepository(options, async ({ images: repo }) => {
      const s = await repo.stats();
      const ratio = s.storedBytes === 0 ? '-' : `${(s.logicalBytes / s.storedBytes).toFixed(2)}×`;
      return {
        data: s,
        text: formatFields([
          ['logical', formatBytes(s.logicalBytes)],
          ['stored', formatBytes(s.storedBytes)],
          ['dedup', ratio],
          ['chunks', String(s.chunks)],
          ['artifacts', String(s.artifacts)],
        ]),
      };
    });
  },
};
