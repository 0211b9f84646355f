// `winsmith user add NAME --role ROLE`: on a data directory directly (the way to make the first
// admin without a server) or through a server as an admin.

import type { CliCommand } from '../command.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';
import { readStdinLine } from '../stdin.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export const userAdd: CliCommand = {
  path: ['user', 'add'],
  summary: 'add a user (admin, builder, operator or viewer), optionally limited to image-name prefixes',
  define(command) {
    command
      .argument('<name>', 'user name, e.g. alice')
      .requiredOption('--role <role>', 'admin | builder | operator | viewer')
      .option(
        '--scope <prefix>',
        'image-name prefix the user is limited to (repeatable), e.g. team-a/',
        collect,
        [],
      )
      .option(
        '--password-stdin',
        'read the password from standard input (otherwise one is generated and shown once)',
      );
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const name = String(args[0]);
    const request = {
      name,
      role: String(options.role),
      scopes: options.scope as string[],
      ...(options.passwordStdin === true ? { password: await readStdinLine() } : {}),
    };
    return withRepository(options, async ({ accounts }) => {
      const created = await accounts.addUser(request);
      return {
        data: {
          name: created.name,
          role: created.role,
          scopes: created.scopes,
          ...(created.password === undefined ? {} : { password: created.password }),
        },
        text: `added ${created.role} ${created.name}${created.password === undefined ? '' : `\npassword: ${created.password}  (shown only now)`}`,
      };
    });
  },
};
