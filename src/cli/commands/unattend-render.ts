// `winsmith unattend render PROFILE.yaml [-o unattend.xml] [--merge FILE.xml]`: an answer file from
// a deployment profile, merged into an existing one when asked, linted, written atomically.

import {
  loadUnattendFile,
  loadUnattendProfile,
  renderProfile,
  writeUnattendFile,
} from '../../image/unattend.ts';
import type { CliCommand } from '../command.ts';
import { addForceOption, forceGiven } from '../force-option.ts';

export const unattendRender: CliCommand = {
  path: ['unattend', 'render'],
  summary:
    'write unattend.xml from a profile YAML (computer name, accounts, network, domain join, RDP, KMS key...)',
  define(command) {
    command
      .argument('<profile>', 'the profile YAML (see docs/unattend.md)')
      .option('-o, --output <file>', 'the answer file to write (without it, the XML goes to stdout)')
      .option(
        '--merge <file>',
        "an existing unattend.xml to start from: the profile's settings win, the rest is kept",
      );
    addForceOption(command);
  },
  async run(_ctx, args, options) {
    const profilePath = String(args[0]);
    const profile = await loadUnattendProfile(profilePath);
    const base = typeof options.merge === 'string' ? await loadUnattendFile(options.merge) : undefined;
    const output = typeof options.output === 'string' ? options.output : undefined;
    const { xml, warnings } = renderProfile(profile, base, output ?? 'the answer file');
    if (output !== undefined) await writeUnattendFile(output, xml, forceGiven(options));
    const warningLines = warnings.map((w) => `${output ?? '-'}:${w.line}: ${w.severity}: ${w.message}`);
    return {
      data: {
        output: output ?? null,
        profile: profilePath,
        merged: base === undefined ? null : options.merge,
        warnings,
        ...(output === undefined ? { xml } : {}),
      },
      text: output === undefined ? xml.trimEnd() : [`wrote ${output}`, ...warningLines].join('\n'),
    };
  },
};
