// `winsmith image optimize FILE.wim [--recompress]`: rebuilds a WIM in place without holes.

import { optimizeImage, parseCompression } from '../../image/wim-ops.ts';
import type { CliCommand } from '../command.ts';
import { formatBytes } from '../format.ts';

export const imageOptimize: CliCommand = {
  path: ['image', 'optimize'],
  summary: 'rebuild a WIM in place without unused space, optionally compressing everything again',
  define(command) {
    command
      .argument('<file>', 'the WIM to rebuild')
      .option('--recompress', 'compress all data again (slower, smaller)')
      .option('--compress <type>', 'recompress with none, xpress, lzx or lzms');
  },
  async run(ctx, args, options) {
    const file = String(args[0]);
    const sizes = await optimizeImage(file, {
      recompress: options.recompress === true,
      ...(typeof options.compress === 'string' ? { compression: parseCompression(options.compress) } : {}),
      onProgress: ctx.progress,
    });
    return {
      data: { file, ...sizes },
      text: `${file}: ${formatBytes(sizes.before)} → ${formatBytes(sizes.after)}`,
    };
  },
};
