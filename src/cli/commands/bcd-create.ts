// `winsmith bcd create OUT …`: a new boot store as bcdboot writes it, for UEFI or BIOS, on a GPT
// disk (GUIDs) or an MBR disk (signature and byte offsets). Written atomically.

import { createBcdFile } from '../../image/bcd.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const bcdCreate: CliCommand = {
  path: ['bcd', 'create'],
  summary: 'create a boot BCD store as bcdboot does (bootmgr, a Windows loader, resume, memdiag)',
  define(command) {
    command
      .argument('<out>', 'the BCD file to write (EFI/Microsoft/Boot/BCD for UEFI, Boot/BCD for BIOS)')
      .requiredOption('--firmware <firmware>', 'uefi or bios')
      .requiredOption('--disk <disk>', 'the GPT disk GUID, or the MBR disk signature (hex)')
      .requiredOption(
        '--system-partition <p>',
        'the partition with the boot files: GPT partition GUID or MBR byte offset',
      )
      .requiredOption(
        '--windows-partition <p>',
        'the Windows partition: GPT partition GUID or MBR byte offset',
      )
      .option(
        '--template <file>',
        "the image's Windows/System32/config/BCD-Template (default: winsmith's own)",
      )
      .option('--locale <locale>', 'the boot menu language', 'en-US')
      .option('--description <text>', "the loader's menu entry", 'Windows Server')
      .option('--nx <policy>', 'DEP policy: optin, optout, alwaysoff, alwayson', 'optin')
      .option('--loader-id <guid>', 'the Windows loader object GUID (default: random)')
      .option('--resume-id <guid>', 'the resume object GUID (default: random)');
    addForceOption(command, 'OUT');
  },
  async run(_ctx, args, options) {
    const out = String(args[0]);
    const opt = (name: string): string | undefined =>
      typeof options[name] === 'string' ? options[name] : undefined;
    const { store, loaderId, resumeId } = await createBcdFile(out, {
      firmware: String(options.firmware),
      disk: String(options.disk),
      systemPartition: String(options.systemPartition),
      windowsPartition: String(options.windowsPartition),
      overwrite: forceGiven(options),
      ...Object.fromEntries(
        (['template', 'locale', 'description', 'nx', 'loaderId', 'resumeId'] as const).flatMap((k) => {
          const v = opt(k);
          return v === undefined ? [] : [[k, v]];
        }),
      ),
    });
    const objects = store.objects().length;
    return {
      data: { store: out, firmware: options.firmware, loaderId, resumeId, objects },
      text: `wrote ${out}: ${objects} objects; Windows Boot Loader ${loaderId}, resume ${resumeId} (${String(options.firmware)})`,
    };
  },
};
