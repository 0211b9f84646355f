// `winsmith image info FILE.wim`: the header of a WIM and its editions, read in TypeScript.

import { loadWimInfo } from '../../image/wim-ref.ts';
import type { CliCommand } from '../command.ts';
import { formatBytes, formatFields, formatTable } from '../format.ts';

export const imageInfo: CliCommand = {
  path: ['image', 'info'],
  summary: 'show the compression, parts and editions (name, edition ID, build, arch, languages) of a WIM',
  define(command) {
    command.argument('<file>', 'a .wim, .esd or the first .swm part of a split WIM');
  },
  async run(_ctx, args) {
    const info = await loadWimInfo(String(args[0]));
    const fields = formatFields([
      ['guid', info.guid],
      ['compression', `${info.compression}${info.solid ? ' (solid)' : ''}`],
      ['chunk size', String(info.chunkSize)],
      ['parts', String(info.parts)],
      ['boot index', info.bootIndex === 0 ? 'none' : String(info.bootIndex)],
    ]);
    const table = formatTable(
      ['INDEX', 'NAME', 'EDITION', 'TYPE', 'BUILD', 'ARCH', 'LANGUAGES', 'SIZE', 'FILES', 'DIRS'],
      info.images.map((e) => [
        String(e.index),
        e.name ?? '-',
        e.editionId ?? '-',
        e.installationType ?? '-',
        e.build ?? '-',
        e.arch ?? '-',
        e.languages.join(',') || '-',
        e.totalBytes === null ? '-' : formatBytes(e.totalBytes),
        e.fileCount === null ? '-' : String(e.fileCount),
        e.dirCount === null ? '-' : String(e.dirCount),
      ]),
    );
    return { data: info, text: `${fields}\n\n${table}` };
  },
};
