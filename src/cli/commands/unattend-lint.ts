// `winsmith unattend lint FILE.xml`: the problems of an answer file, one a line
// (`FILE:LINE: severity: message`); exit status 1 when one of them is an error.

import { AppError } from '../../core/errors.ts';
import { lintUnattendFile } from '../../image/unattend.ts';
import type { CliCommand } from '../command.ts';

export const unattendLint: CliCommand = {
  path: ['unattend', 'lint'],
  summary:
    'check an unattend.xml: well-formed, known passes, components in passes Windows accepts, known settings, no plain-text passwords',
  define(command) {
    command
      .argument('<file>', 'the answer file')
      .option(
        '--arch <arch>',
        "the image's architecture (amd64, x86, arm64): components for another are errors",
      );
  },
  async run(_ctx, args, options) {
    const file = String(args[0]);
    const arch = typeof options.arch === 'string' ? options.arch : undefined;
    if (arch !== undefined && arch !== 'amd64' && arch !== 'x86' && arch !== 'arm64')
      throw new AppError('USAGE', `--arch must be amd64, x86 or arm64, found '${arch}'`, {
        hint: "give the image's architecture",
      });
    const findings = await lintUnattendFile(file, arch === undefined ? {} : { arch });
    const errors = findings.filter((f) => f.severity === 'error').length;
    return {
      data: { file, errors, warnings: findings.length - errors, findings },
      text:
        findings.length === 0
          ? `${file}: no problems found`
          : findings.map((f) => `${file}:${f.line}: ${f.severity}: ${f.message}`).join('\n'),
      exitCode: errors > 0 ? 1 : 0,
    };
  },
};
