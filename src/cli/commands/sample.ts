// `winsmith sample -o sample.wim [--size BYTES]`: a Windows Server 2022-like image made from nothing.

import { AppError } from '../../core/errors.ts';
import { buildSampleImage, SAMPLE_DEFAULTS } from '../../image/sample/build-sample.ts';
import { parseCompression } from '../../image/wim-ops.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';
import { formatBytes, formatFields } from '../format.ts';

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  K: 1024,
  KIB: 1024,
  M: 1024 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TIB: 1024 ** 4,
};

/** "1000000", "64MiB", "2G" → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const unit = m === null ? undefined : SIZE_UNITS[(m[2] ?? '').toUpperCase()];
  const bytes = m === null || unit === undefined ? NaN : Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new AppError('INVALID_ARGUMENT', `size "${text}" is not a positive number of bytes`, {
      hint: 'give bytes, or a number with KiB, MiB, GiB or TiB, e.g. --size 64MiB',
    });
  }
  return bytes;
}

function parseSeed(text: string): number {
  const seed = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seed) || seed > 0xffff_ffff) {
    throw new AppError('INVALID_ARGUMENT', `seed "${text}" is not an integer from 0 to 4294967295`, {
      hint: 'give a whole number, e.g. --seed 7',
    });
  }
  return seed;
}

export const sample: CliCommand = {
  path: ['sample'],
  summary:
    'make a Windows Server 2022-like sample WIM (real hives, boot files as stand-ins) for trying every stage',
  define(command) {
    command
      .requiredOption('-o, --output <wim>', 'the WIM file to create')
      .option(
        '--size <bytes>',
        'total file bytes wanted (e.g. 64MiB, 2GiB): generated content pads the image',
      )
      .option(
        '--seed <n>',
        'seed of the generated content: same seed, same bytes',
        String(SAMPLE_DEFAULTS.seed),
      )
      .option('--name <name>', 'the image name', SAMPLE_DEFAULTS.name)
      .option('--description <text>', 'the image description (default: the name)')
      .option('--compress <type>', 'none, xpress, lzx or lzms', 'lzx');
    addForceOption(command);
  },
  async run(ctx, _args, options) {
    const output = String(options.output);
    const result = await buildSampleImage(output, {
      ...(typeof options.size === 'string' ? { size: parseSize(options.size) } : {}),
      seed: parseSeed(String(options.seed)),
      name: String(options.name),
      ...(typeof options.description === 'string' ? { description: options.description } : {}),
      compression: parseCompression(String(options.compress)),
      overwrite: forceGiven(options),
      onProgress: ctx.progress,
    });
    return {
      data: result,
      text: formatFields([
        ['sample image', result.path],
        ['name', result.name],
        ['files', String(result.fileCount)],
        ['content', formatBytes(result.totalBytes)],
        ['WIM size', `${formatBytes(result.wimBytes)} (${result.compression})`],
        ['seed', String(result.seed)],
      ]),
    };
  },
};
