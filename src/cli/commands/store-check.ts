// `winsmith store check`: reads every chunk and manifest back and checks their hashes.

import type { CliCommand } from '../command.ts';
import { formatBytes } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const storeCheck: CliCommand = {
  path: ['store', 'check'],
  summary: 'verify every chunk and manifest of a repository (exit 1 when a problem is found)',
  define(command) {
    addRepoOption(command);
  },
  async run(ctx, _args, options) {
    return withRepository(options, async ({ repo }) => {
      const r = await repo.check(ctx.progress);
      const problems = [
        ...r.corruptChunks.map((d) => `corrupt chunk ${d}`),
        ...r.corruptManifests.map((d) => `corrupt manifest ${d}`),
        ...r.missingChunks.map((m) => `manifest ${m.manifest} lacks chunk ${m.chunk}`),
        ...r.missingManifests.map((d) => `artifact ${d} has no manifest`),
      ];
      const summary = `${r.chunksChecked} chunks (${formatBytes(r.bytesChecked)}) and ${r.manifestsChecked} manifests checked`;
      return {
        data: r,
        text: r.ok ? `ok: ${summary}` : `${problems.join('\n')}\n${problems.length} problem(s); ${summary}`,
        exitCode: r.ok ? 0 : 1,
      };
    });
  },
};
