// `winsmith image extract FILE.wim[:INDEX] PATH... -o DIR`: copies files out of an image.

import { extractImageFiles } from '../../image/wim-files.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const imageExtract: CliCommand = {
  path: ['image', 'extract'],
  summary: 'extract files or directories of one image of a WIM into a new directory',
  define(command) {
    command
      .argument('<image>', 'FILE.wim[:INDEX]')
      .argument('<paths...>', 'paths in the image, e.g. /Windows/System32/config/SOFTWARE')
      .requiredOption('-o, --output <dir>', 'the directory to create; each path lands under its base name');
    addForceOption(command, 'the directory');
  },
  async run(ctx, args, options) {
    const ref = String(args[0]);
    const paths = (args[1] as string[]).map(String);
    const out = String(options.output);
    await extractImageFiles(ref, paths, out, ctx.progress, forceGiven(options));
    return { data: { image: ref, paths, output: out }, text: `extracted ${paths.length} path(s) to ${out}` };
  },
};
