// `winsmith token create`: an API token, shown once (for CI: WINSMITH_TOKEN=... winsmith push ...).

import { AppError } from '../../core/errors.ts';
import type { CliCommand } from '../command.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const tokenCreate: CliCommand = {
  path: ['token', 'create'],
  summary:
    'create an API token (shown once); on a data directory for any user, on a server for yourself (admins: anyone)',
  define(command) {
    command
      .option('--name <name>', 'what the token is for, e.g. ci-runner', 'api')
      .option('--user <name>', 'the user it acts as (on a data directory: required)')
      .option('--expires-days <days>', 'lifetime in days (default 90, at most 366)')
      .option(
        '--scope <prefix>',
        "image-name prefix the token is limited to (repeatable), within its user's scopes",
        (value: string, previous: string[]) => [...previous, value],
        [],
      );
    addRepoOption(command);
  },
  async run(_ctx, _args, options) {
    const days = options.expiresDays === undefined ? null : Number(options.expiresDays);
    if (days !== null && !(days > 0)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `--expires-days ${String(options.expiresDays)} is not a positive number`,
        {
          hint: 'e.g. --expires-days 30',
        },
      );
    }
    const name = String(options.name);
    return withRepository(options, async ({ accounts }) => {
      const result = await accounts.createToken({
        name,
        ...(typeof options.user === 'string' ? { user: options.user } : {}),
        expiresInDays: days,
        scopes: options.scope as string[],
      });
      return {
        data: result,
        text: `${result.token}\n(shown only now${result.expiresAt === null ? '' : `; expires ${result.expiresAt}`})`,
      };
    });
  },
};
