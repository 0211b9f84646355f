// `winsmith import ISO`: each edition of the install image, and boot.wim, stored as images.

import { AppError } from '../../core/errors.ts';
import { requireFile } from '../../io/paths.ts';
import { importIso } from '../../app/import-iso.ts';
import type { CliCommand } from '../command.ts';
import { formatBytes, formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export const importCommand: CliCommand = {
  path: ['import'],
  summary:
    'store the editions of a Windows ISO (one image each) and its boot.wim; lineage records the ISO SHA-256',
  define(command) {
    command
      .argument('<iso>', 'Windows installation media')
      .option(
        '--name-prefix <prefix>',
        "first name segment(s) instead of the product, e.g. team-a/ws (default: 'windows-server')",
      )
      .option(
        '--name <index=NAME:TAG>',
        "name an edition (its index in install.wim) or 'boot' yourself; repeatable",
        collect,
        [],
      );
    addRepoOption(command);
  },
  async run(ctx, args, options) {
    const iso = String(args[0]);
    await requireFile(iso);
    const names: Record<string, string> = {};
    for (const pair of options.name as string[]) {
      const eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new AppError('USAGE', `--name ${JSON.stringify(pair)} is not INDEX=NAME:TAG`, {
          hint: 'e.g. --name 2=team-a/ws2022-dc:v1',
        });
      }
      names[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return withRepository(options, async ({ images: repo }) => {
      const imported = await importIso(repo, iso, {
        ...(typeof options.namePrefix === 'string' ? { namePrefix: options.namePrefix } : {}),
        names,
        progress: ctx.progress,
      });
      const text = formatTable(
        ['SOURCE', 'IMAGE', 'DIGEST', 'SIZE', 'SENT'],
        imported.map((i) => [
          i.source,
          i.ref,
          i.result.image.digest.slice(0, 12),
          formatBytes(i.result.image.size),
          formatBytes(i.result.uploadedBytes),
        ]),
      );
      return { data: imported, text };
    });
  },
};
