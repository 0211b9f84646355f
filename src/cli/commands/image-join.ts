// `winsmith image join OUT.wim PART.swm...`: the parts of a split WIM back into one WIM.

import { joinImage } from '../../image/wim-ops.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const imageJoin: CliCommand = {
  path: ['image', 'join'],
  summary: 'join all the .swm parts of a split WIM into one new WIM',
  define(command) {
    command.argument('<out>', 'the WIM to create').argument('<parts...>', 'every .swm part, in any order');
    addForceOption(command, 'OUT');
  },
  async run(ctx, args, options) {
    const out = String(args[0]);
    const parts = (args[1] as string[]).map(String);
    await joinImage(out, parts, ctx.progress, { overwrite: forceGiven(options) });
    return { data: { output: out, parts }, text: `joined ${parts.length} part(s) into ${out}` };
  },
};
