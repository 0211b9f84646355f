// `winsmith login URL`: exchanges a user name and password for a token, stored for that URL in
// ~/.config/winsmith/credentials.json (mode 0600). The token is never printed.

import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { saveCredential } from '../../config/credentials.ts';
import { AppError } from '../../core/errors.ts';
import { loginRemote, publicUrl } from '../../app/remote/http-client.ts';
import type { CliCommand } from '../command.ts';
import { readStdinLine } from '../stdin.ts';

/** Asks on the terminal; `secret` answers are not echoed. */
async function ask(question: string, secret: boolean): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new AppError('USAGE', `no terminal to ask for the ${secret ? 'password' : 'user name'}`, {
      hint: 'pass --user NAME and --password-stdin (the password on standard input)',
    });
  }
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = secret;
    const text = await answer;
    if (secret) process.stderr.write('\n');
    return text;
  } finally {
    rl.close();
  }
}

export const login: CliCommand = {
  path: ['login'],
  summary:
    'log in to a winsmith server and keep the token in ~/.config/winsmith/credentials.json (mode 0600)',
  define(command) {
    command
      .argument('<url>', 'the server, e.g. http://repo.example:8080')
      .option('--user <name>', 'user name (asked when absent)')
      .option('--password-stdin', 'read the password from standard input (for scripts)');
  },
  async run(_ctx, args, options) {
    const url = publicUrl(String(args[0]));
    const user = typeof options.user === 'string' ? options.user : await ask('user: ', false);
    const password = options.passwordStdin === true ? await readStdinLine() : await ask('password: ', true);
    const { token, expiresAt } = await loginRemote(url, user, password);
    const path = await saveCredential(url, { user, token, expiresAt });
    return {
      data: { url, user, expiresAt, credentials: path },
      text: `logged in to ${url} as ${user}; token saved in ${path}${expiresAt === null ? '' : ` (expires ${expiresAt})`}`,
    };
  },
};
