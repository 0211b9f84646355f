// Questions asked on the terminal (a user name, a password), for commands that take what they
// need from standard input when it is not a terminal.

import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { AppError } from '../core/errors.ts';

/** Asks on the terminal; `secret` answers are not echoed. `hint` says how to answer without one. */
export async function ask(question: string, secret: boolean, hint: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new AppError('USAGE', `no terminal to ask for the ${question.replace(/: $/, '')}`, { hint });
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
