// `winsmith user list|show|disable|enable|rm|passwd|set-role|set-scope`: the users of a
// repository, on a data directory directly or through a server as an admin (`passwd` of one's own
// password: any user, giving the current one). The last enabled admin is never disabled, demoted
// nor removed; a disabled user's tokens stop working at once.

import type { Command } from 'commander';
import type { TokenView, UserChangeRequest, UserView } from '../../app/session.ts';
import { AppError } from '../../core/errors.ts';
import type { CliCommand, CliResult } from '../command.ts';
import { formatFields, formatTable } from '../format.ts';
import { addRepoOption, withRepository } from '../repo-option.ts';
import { ask } from '../ask.ts';
import { readStdinLine } from '../stdin.ts';
import { tokenRows, TOKEN_HEADER } from './token.ts';

function scopesText(scopes: readonly string[]): string {
  return scopes.length === 0 ? 'every image' : scopes.join(', ');
}

function stateText(u: UserView): string {
  return u.disabled ? 'disabled' : 'enabled';
}

function userText(u: UserView, tokens: readonly TokenView[]): string {
  const fields = formatFields([
    ['user', u.name],
    ['role', u.role],
    ['scopes', scopesText(u.scopes)],
    ['state', stateText(u)],
    ['created', u.createdAt],
    ['changed', u.updatedAt],
  ]);
  return tokens.length === 0
    ? `${fields}\ntokens:  none`
    : `${fields}\n\n${formatTable(TOKEN_HEADER, tokenRows(tokens))}`;
}

/**
 * A command on one user (NAME, then what `define` adds) whose answer is the user as it now is:
 * `disabled NAME (...)` or `enabled NAME (...)` after a change of state, else `changed NAME (...)`.
 */
function userChange(
  path: readonly string[],
  summary: string,
  changesOf: (args: readonly unknown[]) => UserChangeRequest,
  define: (command: Command) => void = () => undefined,
): CliCommand {
  return {
    path,
    summary,
    define(command) {
      command.argument('<name>', 'the user name');
      define(command);
      addRepoOption(command);
    },
    run: (_ctx, args, options) =>
      withRepository(options, async (session): Promise<CliResult> => {
        const changes = changesOf(args);
        const user = await session.accounts.changeUser(String(args[0]), changes);
        const verb = changes.disabled === undefined ? 'changed' : stateText(user);
        return {
          data: user,
          text: `${verb} ${user.name} (${user.role}, ${scopesText(user.scopes)}, ${stateText(user)})`,
        };
      }),
  };
}

export const userList: CliCommand = {
  path: ['user', 'list'],
  summary: 'list the users: name, role, scopes, enabled or disabled',
  define(command) {
    addRepoOption(command);
  },
  async run(_ctx, _args, options) {
    return withRepository(options, async ({ accounts }) => {
      const users = await accounts.listUsers();
      return {
        data: users,
        text: formatTable(
          ['NAME', 'ROLE', 'SCOPES', 'STATE', 'CREATED'],
          users.map((u) => [u.name, u.role, scopesText(u.scopes), stateText(u), u.createdAt]),
        ),
      };
    });
  },
};

export const userShow: CliCommand = {
  path: ['user', 'show'],
  summary: 'show one user: role, scopes, state, when made and changed, and their tokens',
  define(command) {
    command.argument('<name>', 'the user name');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const name = String(args[0]);
    return withRepository(options, async ({ accounts }) => {
      const user = await accounts.showUser(name);
      const tokens = await accounts.listTokens({ user: name });
      return { data: { ...user, tokens }, text: userText(user, tokens) };
    });
  },
};

export const userDisable = userChange(
  ['user', 'disable'],
  'disable a user: their tokens stop working at once and they cannot log in (not the last enabled admin)',
  () => ({ disabled: true }),
);

export const userEnable = userChange(
  ['user', 'enable'],
  'enable a disabled user again: their tokens that have not expired work again',
  () => ({ disabled: false }),
);

export const userSetRole = userChange(
  ['user', 'set-role'],
  "change a user's role: admin, builder, operator or viewer (the last enabled admin stays admin)",
  (args) => ({ role: String(args[1]) }),
  (command) => command.argument('<role>', 'admin | builder | operator | viewer'),
);

export const userSetScope = userChange(
  ['user', 'set-scope'],
  "replace a user's image-name prefixes; none given: every image name (admins are never scoped)",
  (args) => ({ scopes: (args[1] as string[] | undefined) ?? [] }),
  (command) => command.argument('[prefixes...]', 'image-name prefixes, e.g. team-a/ team-b/servers/'),
);

export const userRm: CliCommand = {
  path: ['user', 'rm'],
  summary: 'remove a user and their tokens (not the last enabled admin)',
  define(command) {
    command.argument('<name>', 'the user name');
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const name = String(args[0]);
    return withRepository(options, async ({ accounts }) => {
      await accounts.removeUser(name);
      return { data: { removed: name }, text: `removed user ${name}` };
    });
  },
};

/** The current and new password of `passwd`: from standard input (one line each), or asked. */
async function passwords(
  current: boolean,
  fromStdin: boolean,
): Promise<{ currentPassword?: string; password?: string }> {
  if (fromStdin) {
    const lines = (await readStdinLine()).split(/\r?\n/);
    const expected = current ? 2 : 1;
    if (lines.length !== expected) {
      throw new AppError(
        'USAGE',
        `standard input holds ${lines.length} lines; expected ${current ? 'the current password, then the new one' : 'the new password'}`,
        {
          hint: current
            ? 'printf "%s\\n%s\\n" "$OLD" "$NEW" | winsmith user passwd NAME --current --password-stdin'
            : 'one line: the new password',
        },
      );
    }
    return current
      ? { currentPassword: lines[0] ?? '', password: lines[1] ?? '' }
      : { password: lines[0] ?? '' };
  }
  if (!current) return {};
  const hint = 'pass --password-stdin: the current password on the first line, the new one on the second';
  const currentPassword = await ask('current password: ', true, hint);
  const password = await ask('new password: ', true, hint);
  if ((await ask('new password again: ', true, hint)) !== password) {
    throw new AppError('USAGE', 'the two new passwords differ', { hint: 'run the command again' });
  }
  return { currentPassword, password };
}

export const userPasswd: CliCommand = {
  path: ['user', 'passwd'],
  summary:
    "set a password: one's own with --current (the current one asked or read), or (admins) anyone's, generated and shown once unless given",
  define(command) {
    command
      .argument('<name>', 'the user name')
      .option('--current', "change one's own password, giving the current one")
      .option(
        '--password-stdin',
        'read the new password from standard input (with --current: the current one on the first line, the new one on the second)',
      );
    addRepoOption(command);
  },
  async run(_ctx, args, options) {
    const name = String(args[0]);
    const request = await passwords(options.current === true, options.passwordStdin === true);
    return withRepository(options, async ({ accounts }) => {
      const changed = await accounts.setPassword(name, request);
      return {
        data: changed,
        text: `password of ${changed.name} set${changed.password === undefined ? '' : `\npassword: ${changed.password}  (shown only now)`}`,
      };
    });
  },
};
