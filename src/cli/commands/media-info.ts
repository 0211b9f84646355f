// `winsmith media info ISO`: the label of Windows installation media and the editions of its
// install image and boot.wim, read in place (nothing is extracted).

import type { WimEdition } from '../../image/wim-info.ts';
import { readMediaInfo, type MediaImage } from '../../image/media.ts';
import type { CliCommand } from '../command.ts';
import { formatBytes, formatFields, formatTable } from '../format.ts';

function editionsTable(images: readonly WimEdition[]): string {
  const rows = images.map((e) => [
    String(e.index),
    e.name ?? '-',
    e.editionId ?? '-',
    e.arch ?? '-',
    e.build ?? '-',
    e.languages.join(',') || '-',
    e.totalBytes === null ? '-' : formatBytes(e.totalBytes),
  ]);
  return formatTable(['INDEX', 'NAME', 'EDITION', 'ARCH', 'BUILD', 'LANGUAGES', 'SIZE'], rows)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function section(title: string, image: MediaImage | null): string {
  if (image === null) return `${title}: none`;
  const count = `${image.images.length} image${image.images.length === 1 ? '' : 's'}`;
  return `${title}: ${image.path} (${count})\n${editionsTable(image.images)}`;
}

export const mediaInfo: CliCommand = {
  path: ['media', 'info'],
  summary: 'show the label and the editions of the install and boot images of a Windows ISO',
  define(command) {
    command.argument('<iso>', 'the Windows installation ISO (UDF)');
  },
  async run(_ctx, args) {
    const info = await readMediaInfo(String(args[0]));
    const text = [
      formatFields([['label', info.label]]),
      section('install', info.install),
      section('boot', info.boot),
    ].join('\n');
    return { data: info, text };
  },
};
