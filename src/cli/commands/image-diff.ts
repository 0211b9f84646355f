// `winsmith image diff A.wim[:I] B.wim[:J]`: files, registry, drivers and unattend differences.

import { diffImages } from '../../image/diff.ts';
import type { CliCommand } from '../command.ts';

const SIGN = { added: '+', removed: '-', changed: '~' } as const;

export const imageDiff: CliCommand = {
  path: ['image', 'diff'],
  summary: 'compare two images: files (size, SHA-1), registry keys and values, drivers, unattend settings',
  define(command) {
    command
      .argument('<a>', 'A.wim[:INDEX], the image before')
      .argument('<b>', 'B.wim[:INDEX], the image after');
  },
  async run(_ctx, args) {
    const d = await diffImages(String(args[0]), String(args[1]));
    const text = [
      `files (${d.files.length}):`,
      ...d.files.map((f) => `  ${SIGN[f.change]} ${f.path}${f.isDir ? '/' : ''}`),
      `registry (${d.registry.length}):`,
      ...d.registry.map(
        (r) =>
          `  ${SIGN[r.change]} ${r.hive}${r.key === '\\' ? '' : r.key}${r.value === undefined ? '' : ` : ${r.value === '' ? '(default)' : r.value}`}${r.b === undefined ? '' : ` = ${r.b}`}`,
      ),
      `drivers (${d.drivers.length}):`,
      ...d.drivers.map((x) => `  ${SIGN[x.change]} ${x.inf} (${x.where})`),
      `unattend (${d.unattend.length}):`,
      ...d.unattend.map((u) => `  ${SIGN[u.change]} ${u.setting}${u.b === undefined ? '' : ` = ${u.b}`}`),
    ].join('\n');
    return {
      data: {
        files: d.files,
        registry: d.registry,
        drivers: d.drivers,
        unattend: d.unattend,
        a: d.a,
        b: d.b,
      },
      text,
    };
  },
};
