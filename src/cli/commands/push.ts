// `winsmith push FILE NAME:TAG`: stores a file in a repository, sending only the chunks it lacks.

import { AppError } from '../../core/errors.ts';
import { requireFile } from '../../io/paths.ts';
import { artifactMetaOf } from '../../app/artifact-meta.ts';
import { formatImageRef, parseImageRef } from '../../core/names.ts';
import { isDigest } from '../../core/names.ts';
import { pushFile } from '../../app/transfer.ts';
import type { Repository } from '../../store/repository.ts';
import type { CliCommand } from '../command.ts';
import { formatBytes } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

async function parentDigest(repo: Repository, parent: unknown): Promise<string | null> {
  if (typeof parent !== 'string') return null;
  if (isDigest(parent)) return parent;
  if (!parent.includes(':')) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `--parent ${JSON.stringify(parent)} is neither NAME:TAG nor a SHA-256 digest`,
      {
        hint: 'give the parent as NAME:TAG or as its 64-hex-digit digest',
      },
    );
  }
  return (await repo.getImage(parseImageRef(parent))).digest;
}

export const push: CliCommand = {
  path: ['push'],
  summary: 'store a file (WIM, ISO, anything) as NAME:TAG; only chunks the repository lacks are sent',
  define(command) {
    command
      .argument('<file>', 'the file to store')
      .argument('<ref>', 'NAME:TAG, e.g. team-a/ws2022:v1')
      .option('--parent <ref>', 'the image this one was made from (NAME:TAG or digest): recorded as lineage')
      .option('--init', 'make the repository first when --repo names a new or empty directory');
    addRepoOption(command);
  },
  async run(ctx, args, options) {
    const file = String(args[0]);
    const ref = parseImageRef(String(args[1]));
    await requireFile(file);
    return withRepository(options, async ({ images: repo }) => {
      const meta = await artifactMetaOf(file, { parentDigest: await parentDigest(repo, options.parent) });
      const result = await pushFile(repo, file, ref, meta, ctx.progress);
      return {
        data: result,
        text:
          `pushed ${formatImageRef(ref)} ${result.image.digest}\n` +
          `${formatBytes(result.image.size)}, ${result.chunks} chunks, ${result.uploadedChunks} sent (${formatBytes(result.uploadedBytes)})`,
      };
    });
  },
};
