// `winsmith store check`: reads every chunk and manifest back and checks their hashes, then the
// whole content of every image against its SHA-256.

import type { CliCommand } from '../command.ts';
import { formatBytes } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const storeCheck: CliCommand = {
  path: ['store', 'check'],
  summary: 'verify every chunk, manifest and image content of a repository (exit 1 when a problem is found)',
  define(command) {
    addRepoOption(command);
  },
  async run(ctx, _args, options) {
    return withRepository(options, async ({ images: repo }) => {
      const r = await repo.check(ctx.progress);
      const problems = [
        ...r.corruptChunks.map((d) => `corrupt chunk ${d}`),
        ...r.corruptManifests.map((d) => `corrupt manifest ${d}`),
        ...r.missingChunks.map((m) => `manifest ${m.manifest} lacks chunk ${m.chunk}`),
        ...r.missingManifests.map((d) => `artifact ${d} has no manifest`),
        ...r.wrongContent.map(
          (w) => `artifact ${w.digest}: its content has SHA-256 ${w.found}, the catalog says ${w.expected}`,
        ),
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
