// `winsmith bootenv build [-o DIR]`: the deploy environment (Debian's signed kernel and an initramfs
// with busybox, wimlib, ntfs-3g, the partitioning tools, nbdkit + nbdfuse, Node and the agent), built
// from the packages the lock pins, without root. DIR gets vmlinuz, initrd.img, the signed loaders
// of Secure Boot network boot (shimx64.efi, grubx64.efi) and bootenv.json.

import { resolve } from 'node:path';
import { buildBootEnvDirectory, defaultPackageCache } from '../../app/bootenv.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';
import { formatBytes, formatFields } from '../format.ts';

export const bootenvBuild: CliCommand = {
  path: ['bootenv', 'build'],
  summary:
    'build the deploy environment (signed Debian kernel + initramfs with wimlib, ntfs-3g, nbdkit, Node and the agent) from the lock',
  define(command) {
    command
      .option(
        '-o, --output <dir>',
        'the directory to create (vmlinuz, initrd.img, shimx64.efi, grubx64.efi, bootenv.json)',
        'bootenv',
      )
      .option('--cache <dir>', 'where downloaded packages are kept between builds', defaultPackageCache())
      .option('--lock <file>', 'build from this lock instead of the one winsmith comes with');
    addForceOption(command, 'the output directory');
  },
  async run(ctx, _args, options) {
    const output = resolve(String(options.output));
    const info = await buildBootEnvDirectory({
      output,
      cacheDir: String(options.cache),
      ...(typeof options.lock === 'string' ? { lockFile: options.lock } : {}),
      overwrite: forceGiven(options),
      progress: ctx.progress,
    });
    const initrd = info.files['initrd.img'];
    const used = info.packages.filter((p) => p.used).length;
    return {
      data: { output, ...info },
      text: formatFields([
        ['deploy environment', output],
        ['kernel', `${info.kernel.version} (${info.kernel.package} ${info.kernel.packageVersion})`],
        ['vmlinuz', `${formatBytes(info.files.vmlinuz.size)}  sha256 ${info.files.vmlinuz.sha256}`],
        [
          'initrd.img',
          `${formatBytes(initrd.size)} zstd, ${formatBytes(initrd.unpackedSize)} unpacked  sha256 ${initrd.sha256}`,
        ],
        ...(['shimx64.efi', 'grubx64.efi'] as const).map((name): [string, string] => [
          name,
          `${formatBytes(info.files[name].size)}  sha256 ${info.files[name].sha256}`,
        ]),
        ['node', `v${info.node.version} (${formatBytes(info.node.size)})`],
        ['agent', `${info.agent.path} (${formatBytes(info.agent.size)})`],
        [
          'modules',
          `${info.modules.loaded.length} loaded at start, ${info.modules.files} files with their dependencies`,
        ],
        ['packages', `${info.packages.length} pinned, files from ${used}`],
      ]),
    };
  },
};
