// The --repo option shared by the repository commands, and the Session it names (a server URL or
// a data directory; see src/app/open-session.ts), closed after the command.

import type { Command } from 'commander';
import { withSession } from '../app/open-session.ts';
import type { Session } from '../app/session.ts';

export function addRepoOption(command: Command): Command {
  return command.option('--repo <url|path>', 'a server URL or a data directory (default: $WINSMITH_REPO)');
}

/** Runs `fn` on the repository --repo names; `--init` (push) lets a data directory be made. */
export function withRepository<T>(
  options: Readonly<Record<string, unknown>>,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  return withSession(typeof options.repo === 'string' ? options.repo : undefined, fn, {
    init: options.init === true,
  });
}
