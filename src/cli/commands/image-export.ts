// `winsmith image export FILE.wim[:I] OUT.wim`: one image into a new or existing WIM, under its own
// name and description or those given.

import { exportImage, parseCompression } from '../../image/wim-ops.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const imageExport: CliCommand = {
  path: ['image', 'export'],
  summary: 'copy one image of a WIM into a new WIM, or append it to an existing one, optionally recompressed',
  define(command) {
    command
      .argument('<image>', 'FILE.wim[:INDEX]')
      .argument('<out>', 'the WIM to create, or to append to when it exists')
      .option('--compress <type>', 'none, xpress, lzx or lzms (new WIM only)')
      .option('--solid', 'solid LZMS compression, as in ESD files')
      .option('--name <name>', "the exported image's name (default: the source image's)")
      .option('--description <text>', "the exported image's description (default: the source image's)");
    addForceOption(command, 'OUT with a new WIM instead of appending to it,');
  },
  async run(ctx, args, options) {
    const ref = String(args[0]);
    const out = String(args[1]);
    await exportImage(ref, out, {
      ...(typeof options.compress === 'string' ? { compression: parseCompression(options.compress) } : {}),
      solid: options.solid === true,
      ...(typeof options.name === 'string' ? { name: options.name } : {}),
      ...(typeof options.description === 'string' ? { description: options.description } : {}),
      overwrite: forceGiven(options),
      onProgress: ctx.progress,
    });
    return { data: { image: ref, output: out }, text: `exported ${ref} to ${out}` };
  },
};
