// `winsmith image capture SRC OUT.wim --name N`: a directory or an NTFS volume into a new WIM.

import { captureImage, parseCompression } from '../../image/wim-ops.ts';
import type { CliCommand } from '../command.ts';

export const imageCapture: CliCommand = {
  path: ['image', 'capture'],
  summary: 'capture a directory, or an NTFS volume in a file or block device (no mount), into a new WIM',
  define(command) {
    command
      .argument('<source>', 'a directory, or an NTFS volume: an image file or a block device')
      .argument('<out>', 'the WIM file to create')
      .requiredOption('--name <name>', 'the image name')
      .option('--description <text>', 'the image description')
      .option('--compress <type>', 'none, xpress, lzx or lzms', 'lzx')
      .option('--solid', 'solid LZMS compression, as in ESD files (smallest, slowest)')
      .option('--check', 'add an integrity table');
  },
  async run(ctx, args, options) {
    const source = String(args[0]);
    const out = String(args[1]);
    const name = String(options.name);
    const compression = parseCompression(String(options.compress));
    await captureImage(source, out, {
      name,
      ...(typeof options.description === 'string' ? { description: options.description } : {}),
      compression,
      solid: options.solid === true,
      check: options.check === true,
      onProgress: ctx.progress,
    });
    return {
      data: { source, output: out, name, compression, solid: options.solid === true },
      text: `captured ${source} into ${out} as "${name}"`,
    };
  },
};
