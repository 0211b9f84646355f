// `winsmith image capture SRC OUT.wim --name N`: a directory, an NTFS volume, or the Windows
// partition of a whole disk image into a new WIM; with `--push NAME:TAG` instead of OUT, straight
// into a repository (src/app/capture-into.ts).

import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { captureInto } from '../../app/capture-into.ts';
import { formatImageRef, parseImageRef, type ImageRef } from '../../core/names.ts';
import { captureSource } from '../../image/disk/capture-disk.ts';
import { parseCompression } from '../../image/wim-ops.ts';
import { AppError } from '../../core/errors.ts';
import type { CliCommand, CliContext, CliResult } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';
import { formatBytes } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const imageCapture: CliCommand = {
  path: ['image', 'capture'],
  summary:
    'capture a directory, an NTFS volume in a file or block device, or the Windows partition of a disk image (no mount), into a new WIM or a repository (--push)',
  define(command) {
    command
      .argument(
        '<source>',
        'a directory; an NTFS volume (an image file or a block device); or a disk image (raw, qcow2, vhdx, vmdk)',
      )
      .argument('[out]', 'the WIM file to create (or --push)')
      .requiredOption('--name <name>', 'the image name')
      .option('--description <text>', 'the image description')
      .option('--compress <type>', 'none, xpress, lzx or lzms', 'lzx')
      .option('--solid', 'solid LZMS compression, as in ESD files (smallest, slowest)')
      .option('--check', 'add an integrity table')
      .option(
        '--partition <n>',
        'of a disk image: the partition to capture (default: the largest NTFS partition holding Windows)',
      );
    command
      .option(
        '--push <ref>',
        'instead of OUT: store the capture as NAME:TAG in the repository, with no WIM file on the way where it is on this machine',
      )
      .option('--init', 'with --push: make the repository first when --repo names a new or empty directory');
    addRepoOption(command);
    addForceOption(command, 'OUT');
  },
  async run(ctx, args, options) {
    const source = String(args[0]);
    const out = typeof args[1] === 'string' ? args[1] : undefined;
    if (typeof options.push === 'string') {
      if (out !== undefined) {
        throw new AppError('INVALID_ARGUMENT', `both OUT (${out}) and --push were given`, {
          hint: 'capture into a WIM file or into a repository, not both',
        });
      }
      return captureToRepository(ctx, source, parseImageRef(options.push), options);
    }
    if (out === undefined) {
      throw new AppError('INVALID_ARGUMENT', 'no OUT.wim and no --push NAME:TAG: nowhere to capture to', {
        hint: 'name the WIM file to create, or the image to store with --push NAME:TAG --repo R',
      });
    }
    const capture = captureOptions(ctx, options);
    const { name, compression } = capture;
    const partition = await captureSource(source, out, {
      ...capture,
      partition: partitionOption(options),
      overwrite: forceGiven(options),
    });
    return {
      data: {
        source,
        output: out,
        name,
        compression,
        solid: options.solid === true,
        ...(partition === null ? {} : { partition }),
      },
      text: `captured ${partition === null ? source : `partition ${partition} of ${source}`} into ${out} as "${name}"`,
    };
  },
};

function captureOptions(ctx: CliContext, options: Readonly<Record<string, unknown>>) {
  return {
    name: String(options.name),
    ...(typeof options.description === 'string' ? { description: options.description } : {}),
    compression: parseCompression(String(options.compress)),
    solid: options.solid === true,
    check: options.check === true,
    onProgress: ctx.progress,
  };
}

function partitionOption(options: Readonly<Record<string, unknown>>): number | undefined {
  return typeof options.partition === 'string' ? partitionNumber(options.partition) : undefined;
}

/** --push: the capture stored in the repository; scratch beside a source file, else in the system's. */
async function captureToRepository(
  ctx: CliContext,
  source: string,
  ref: ImageRef,
  options: Readonly<Record<string, unknown>>,
): Promise<CliResult> {
  const isFile = (await stat(source).catch(() => null))?.isFile() === true;
  return withRepository(options, async ({ images }) => {
    const result = await captureInto(images, source, ref, {
      ...captureOptions(ctx, options),
      partition: partitionOption(options),
      scratchParent: isFile ? dirname(resolve(source)) : tmpdir(),
    });
    return {
      data: { source, ...result },
      text:
        `captured ${result.partition === null ? source : `partition ${result.partition} of ${source}`} into ${formatImageRef(ref)} ${result.image.digest}\n` +
        `${formatBytes(result.image.size)}, ${result.chunks} chunks, ${result.uploadedChunks} new (${formatBytes(result.uploadedBytes)})`,
    };
  });
}

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
