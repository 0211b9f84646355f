// `winsmith login URL`: exchanges a user name and password for a token, stored for that URL in
// ~/.config/winsmith/credentials.json (mode 0600). The token is never printed.

import { saveCredential } from '../../config/credentials.ts';
import { loginRemote, publicUrl } from '../../app/remote/http-client.ts';
import { loadTrust } from '../../app/remote/tls-trust.ts';
import type { CliCommand } from '../command.ts';
import { ask } from '../ask.ts';
import { addTlsOptions, trustOptionsOf } from '../repo-option.ts';
import { readStdinLine } from '../stdin.ts';

export const login: CliCommand = {
  path: ['login'],
  summary:
    'log in to a winsmith server and keep the token in ~/.config/winsmith/credentials.json (mode 0600)',
  define(command) {
    command
      .argument('<url>', 'the server, e.g. https://repo.example:8443')
      .option('--user <name>', 'user name (asked when absent)')
      .option('--password-stdin', 'read the password from standard input (for scripts)');
    addTlsOptions(command);
  },
  async run(_ctx, args, options) {
    const url = publicUrl(String(args[0]));
    const trust = await loadTrust(trustOptionsOf(options));
    const hint = 'pass --user NAME and --password-stdin (the password on standard input)';
    const user = typeof options.user === 'string' ? options.user : await ask('user name: ', false, hint);
    const password =
      options.passwordStdin === true ? await readStdinLine() : await ask('password: ', true, hint);
    const { token, expiresAt } = await loginRemote(url, user, password, trust);
    const path = await saveCredential(url, { user, token, expiresAt });
    return {
      data: { url, user, expiresAt, credentials: path },
      text: `logged in to ${url} as ${user}; token saved in ${path}${expiresAt === null ? '' : ` (expires ${expiresAt})`}`,
    };
  },
};
