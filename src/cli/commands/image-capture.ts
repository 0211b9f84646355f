// `winsmith image capture SRC OUT.wim --name N`: a directory, an NTFS volume, or the Windows
// partition of a whole disk image into a new WIM.

import { captureDisk, isDiskImageFile } from '../../image/disk/capture-disk.ts';
import { captureImage, parseCompression } from '../../image/wim-ops.ts';
import { AppError } from '../../core/errors.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const imageCapture: CliCommand = {
  path: ['image', 'capture'],
  summary:
    'capture a directory, an NTFS volume in a file or block device, or the Windows partition of a disk image (no mount), into a new WIM',
  define(command) {
    command
      .argument(
        '<source>',
        'a directory; an NTFS volume (an image file or a block device); or a disk image (raw, qcow2, vhdx, vmdk)',
      )
      .argument('<out>', 'the WIM file to create')
      .requiredOption('--name <name>', 'the image name')
      .option('--description <text>', 'the image description')
      .option('--compress <type>', 'none, xpress, lzx or lzms', 'lzx')
      .option('--solid', 'solid LZMS compression, as in ESD files (smallest, slowest)')
      .option('--check', 'add an integrity table')
      .option(
        '--partition <n>',
        'of a disk image: the partition to capture (default: the largest NTFS partition holding Windows)',
      );
    addForceOption(command, 'OUT');
  },
  async run(ctx, args, options) {
    const source = String(args[0]);
    const out = String(args[1]);
    const name = String(options.name);
    const compression = parseCompression(String(options.compress));
    const capture = {
      name,
      ...(typeof options.description === 'string' ? { description: options.description } : {}),
      compression,
      solid: options.solid === true,
      check: options.check === true,
      onProgress: ctx.progress,
    };
    const partition = typeof options.partition === 'string' ? partitionNumber(options.partition) : undefined;
    if (partition !== undefined || (await isDiskImageFile(source))) {
      const disk = await captureDisk(source, out, {
        ...capture,
        ...(partition === undefined ? {} : { partition }),
        overwrite: forceGiven(options),
      });
      return {
        data: {
          source,
          output: out,
          name,
          compression,
          solid: options.solid === true,
          partition: disk.partition,
        },
        text: `captured partition ${disk.partition} of ${source} into ${out} as "${name}"`,
      };
    }
    await captureImage(source, out, capture, { overwrite: forceGiven(options) });
    return {
      data: { source, output: out, name, compression, solid: options.solid === true },
      text: `captured ${source} into ${out} as "${name}"`,
    };
  },
};

function partitionNumber(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 128)
    throw new AppError(
      'INVALID_ARGUMENT',
      `--partition must be a partition number from 1 to 128, found "${text}"`,
      {
        hint: 'winsmith disk verify DISK lists the partitions',
      },
    );
  return n;
}
