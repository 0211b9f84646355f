// `winsmith image customize SOURCE.wim[:INDEX] --recipe R.yaml -o OUT.wim`: a recipe's steps applied
// offline, only what changes written (docs/customize.md).

import { AppError } from '../../core/errors.ts';
import { customizeImage, customizeImageInPlace } from '../../image/recipe/customize.ts';
import { describeChange } from '../../image/recipe/image-work.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const imageCustomize: CliCommand = {
  path: ['image', 'customize'],
  summary:
    'apply a recipe (files, registry, drivers, unattend, first-boot scripts, features, metadata) to one image, offline',
  define(command) {
    command
      .argument('<image>', 'SOURCE.wim[:INDEX] (the index may be left out when the WIM has one image)')
      .requiredOption('--recipe <file>', 'the recipe YAML (a customize: list of steps)')
      .option('-o, --output <wim>', 'the customized WIM to create (holds the one image)')
      .option('--in-place', 'change the source WIM itself instead of writing -o (costs only the changes)');
    addForceOption(command);
  },
  async run(ctx, args, options) {
    const source = String(args[0]);
    const recipe = String(options.recipe);
    const inPlace = options.inPlace === true;
    if (inPlace === (typeof options.output === 'string')) {
      throw new AppError('USAGE', inPlace ? '--in-place and -o both given' : 'no output named', {
        hint: 'give -o OUT.wim for a new WIM, or --in-place to change the source',
      });
    }
    const result = inPlace
      ? await customizeImageInPlace(source, recipe, { onProgress: ctx.progress })
      : await customizeImage(source, recipe, String(options.output), {
          overwrite: forceGiven(options),
          onProgress: ctx.progress,
        });
    const lines = result.changes.map(describeChange);
    const warnings = result.warnings.map((w) => `warning: ${w}`);
    return {
      data: result,
      text: [
        ...lines,
        ...warnings,
        `wrote ${result.output}:${result.index} (${result.changes.length} changes)`,
      ].join('\n'),
    };
  },
};
