// `winsmith image files FILE.wim[:INDEX] [PATH]`: the files of one image, as wimdir sees them.

import { listImageFiles } from '../../image/wim-files.ts';
import type { CliCommand } from '../command.ts';
import { formatTable } from '../format.ts';

export const imageFiles: CliCommand = {
  path: ['image', 'files'],
  summary: 'list the files of one image of a WIM (path, size, SHA-1), optionally under a path',
  define(command) {
    command
      .argument('<image>', 'FILE.wim[:INDEX] (the index may be left out when the WIM has one image)')
      .argument('[path]', 'list only this path and what is under it, e.g. /Windows/System32/config');
  },
  async run(_ctx, args) {
    const under = typeof args[1] === 'string' ? args[1] : undefined;
    const entries = await listImageFiles(String(args[0]), under);
    const table = formatTable(
      ['SIZE', 'SHA1', 'PATH'],
      entries.map((e) => [
        e.isDir ? '<dir>' : String(e.size),
        e.sha1 ?? '-',
        e.isDir ? `${e.path}/`.replace('//', '/') : e.path,
      ]),
    );
    return { data: entries, text: table };
  },
};
