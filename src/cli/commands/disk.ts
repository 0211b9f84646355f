// `winsmith disk SOURCE.wim[:INDEX] -o OUT.{raw,qcow2,vhdx,vmdk}`: a bootable Windows disk from an image.

import { extname } from 'node:path';
import { AppError } from '../../core/errors.ts';
import { DISK_FORMATS, type DiskFormat } from '../../engines/qemu-img.ts';
import { buildDiskImage } from '../../image/disk/build.ts';
import { readLayoutFile, type Firmware } from '../../image/disk/layout.ts';
import { parseSize } from '../../image/disk/size.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';
import { formatBytes, formatFields, formatTable } from '../format.ts';

function formatOf(output: string, given: unknown): DiskFormat {
  const wanted = typeof given === 'string' ? given : extname(output).slice(1).toLowerCase();
  const format = wanted === 'img' ? 'raw' : wanted;
  if (!(DISK_FORMATS as readonly string[]).includes(format)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `cannot tell the disk format from "${output}" (found "${wanted}")`,
      {
        hint: 'name the output .raw, .img, .qcow2, .vhdx or .vmdk, or give --format',
      },
    );
  }
  return format as DiskFormat;
}

function firmwareOf(value: unknown): Firmware {
  if (value === 'uefi' || value === 'bios') return value;
  throw new AppError('INVALID_ARGUMENT', `--firmware "${String(value)}" is not uefi or bios`, {
    hint: 'use --firmware uefi (GPT) or --firmware bios (MBR)',
  });
}

export const disk: CliCommand = {
  path: ['disk'],
  summary: 'make a bootable disk (raw, qcow2, vhdx, vmdk) from a Windows image; `disk verify` checks one',
  define(command) {
    // Options after `verify` belong to `disk verify` (both have --json).
    command.enablePositionalOptions();
    command
      .argument('<source>', 'FILE.wim[:INDEX], the image to apply')
      .option('-o, --output <file>', 'the disk to create: .raw/.img, .qcow2, .vhdx or .vmdk (required)')
      .option(
        '--firmware <firmware>',
        'uefi (GPT, ESP + MSR + Windows) or bios (MBR, System Reserved + Windows)',
        'uefi',
      )
      .option('--size <size>', 'disk size, e.g. 40G or 512M (default 40G, or what the image needs if more)')
      .option('--layout <file.yaml>', 'partitions other than the default (see docs/disk.md)')
      .option('--unattend <file.xml>', 'put this answer file at Windows\\Panther\\unattend.xml')
      .option('--format <format>', 'raw, qcow2, vhdx or vmdk (default: from the output name)');
    addForceOption(command);
  },
  async run(ctx, args, options) {
    // Not a commander requiredOption: commander checks those of a parent for its subcommands too,
    // which would make `disk verify` ask for -o.
    if (typeof options.output !== 'string') {
      throw new AppError('USAGE', 'no output disk given', {
        hint: 'add -o OUT.qcow2 (or .raw, .vhdx, .vmdk)',
      });
    }
    const output = options.output;
    const firmware = firmwareOf(options.firmware);
    const format = formatOf(output, options.format);
    const result = await buildDiskImage({
      source: String(args[0]),
      output,
      format,
      firmware,
      ...(typeof options.size === 'string' ? { size: parseSize(options.size, '--size') } : {}),
      ...(typeof options.layout === 'string'
        ? { layout: await readLayoutFile(options.layout, firmware) }
        : {}),
      ...(typeof options.unattend === 'string' ? { unattend: options.unattend } : {}),
      overwrite: forceGiven(options),
      onProgress: ctx.progress,
    });
    const plan = result.plan;
    const data = {
      ...result,
      plan: {
        ...plan,
        partitions: plan.partitions.map((p) => ({
          ...p,
          attributes: `0x${p.attributes.toString(16).padStart(16, '0')}`,
        })),
      },
    };
    const table = formatTable(
      ['#', 'role', 'start', 'size', 'filesystem', plan.firmware === 'uefi' ? 'GUID' : 'type'],
      plan.partitions.map((p) => [
        String(p.number),
        p.role,
        String(p.firstLba),
        formatBytes(p.size),
        p.filesystem,
        plan.firmware === 'uefi' ? p.uniqueGuid : `0x${p.mbrType.toString(16)}${p.active ? ' active' : ''}`,
      ]),
    );
    const text = [
      formatFields([
        [
          'disk',
          `${output} (${format}, ${formatBytes(plan.size)}, ${formatBytes(result.allocatedBytes)} allocated)`,
        ],
        [
          'image',
          `${result.image.path}:${result.image.index}${result.image.name === null ? '' : ` (${result.image.name})`}`,
        ],
        [
          'firmware',
          plan.firmware === 'uefi'
            ? `UEFI, GPT disk ${plan.diskGuid}`
            : `BIOS, MBR signature ${plan.diskSignature.toString(16).padStart(8, '0')} (GRUB chain-loads bootmgr)`,
        ],
      ]),
      table,
    ].join('\n');
    return { data, text };
  },
};
