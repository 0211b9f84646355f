// `winsmith token list [--all] [--user NAME]` and `winsmith token revoke ID`: API tokens as
// listings show them (name, owner, scopes, expiry, last use, state; never the secret, which is not
// stored), one's own or (admins) anyone's; a revoked token is refused from the next request on.

import type { TokenView } from '../../app/session.ts';
import type { CliCommand } from '../command.ts';
import { formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';

export const TOKEN_HEADER = ['ID', 'NAME', 'USER', 'SCOPES', 'STATE', 'EXPIRES', 'LAST USED'];

export function tokenRows(tokens: readonly TokenView[]): string[][] {
  return tokens.map((t) => [
    t.id,
    t.name,
    t.user,
    t.scopes.length === 0 ? "the user's" : t.scopes.join(', '),
    t.state,
    t.expiresAt ?? 'never',
    t.lastUsedAt ?? 'never',
  ]);
}

export const tokenList: CliCommand = {
  path: ['token', 'list'],
  summary: "list API tokens, newest first: one's own, or (admins; on a data directory) --all or --user NAME",
  define(command) {
    command.option('--all', "every user's tokens").option('--user <name>', "one user's tokens");
    addRepoOption(command);
  },
  async run(_ctx, _args, options) {
    const filter = {
      ...(options.all === true ? { all: true } : {}),
      ...(typeof options.user === 'string' ? { user: options.user } : {}),
    };
    return withRepository(options, async ({ accounts }) => {
      const tokens = await accounts.listTokens(filter);
      return {
        data: tokens,
        text: tokens.length === 0 ? 'no tokens' : formatTable(TOKEN_HEADER, tokenRows(tokens)),
      };
    });
  },
};

export const tokenRevoke: CliCommand = {
  path: ['token', 'revoke'],
  summary: "revoke an API token by its id (one's own; admins: anyone's): refused from the next request on",
  define(command) {
    command.argument('<id>', 'the token id, as token list shows it');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const id = String(args[0]);
    return withRepository(options, async ({ accounts }) => {
      await accounts.revokeToken(id);
      return { data: { revoked: id }, text: `revoked token ${id}` };
    });
  },
};
