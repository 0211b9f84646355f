// `winsmith store gc`: removes chunks no artifact or open push references.

import type { CliCommand } from '../command.ts';
import { formatBytes } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const storeGc: CliCommand = {
  path: ['store', 'gc'],
  summary: 'delete chunks and manifests nothing references, older than the grace period',
  define(command) {
    addRepoOption(command);
  },
  async run(ctx, _args, options) {
    return withRepository(options, async ({ images: repo }) => {
      const r = await repo.gc(ctx.progress);
      return {
        data: r,
        text: `removed ${r.removedChunks} chunks (${formatBytes(r.removedBytes)}) and ${r.removedManifests} manifests; kept ${r.keptYoung} recent unreferenced chunks; ${r.liveChunks} chunks live`,
      };
    });
  },
};
