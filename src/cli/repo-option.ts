// The --repo option shared by the repository commands, and the Session it names (a server URL or
// a data directory; see src/app/open-session.ts), closed after the command. With it, what an HTTPS
// server's certificate is checked against: --ca FILE (default $WINSMITH_CA), or nothing with
// --insecure, which is warned about on each use (run-cli.ts prints INSECURE_WARNING).

import type { Command } from 'commander';
import { withSession } from '../app/open-session.ts';
import type { TrustOptions } from '../app/remote/tls-trust.ts';
import type { Session } from '../app/session.ts';

export const INSECURE_WARNING =
  "warning: --insecure: the server's certificate is not checked; anyone on the way can read and change this traffic, tokens included";

/** --ca and --insecure: how an https:// server's certificate is checked. */
export function addTlsOptions(command: Command): Command {
  return command
    .option(
      '--ca <file>',
      "the PEM certificate of the private CA that signed the server's (default: $WINSMITH_CA)",
    )
    .option('--insecure', "do not check the server's certificate (warned about each time)");
}

export function addRepoOption(command: Command): Command {
  return addTlsOptions(
    command.option('--repo <url|path>', 'a server URL or a data directory (default: $WINSMITH_REPO)'),
  );
}

/** What --ca and --insecure say. */
export function trustOptionsOf(options: Readonly<Record<string, unknown>>): TrustOptions {
  return {
    ca: typeof options.ca === 'string' ? options.ca : undefined,
    insecure: options.insecure === true,
  };
}

/** Runs `fn` on the repository --repo names; `--init` (push) lets a data directory be made. */
export function withRepository<T>(
  options: Readonly<Record<string, unknown>>,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  return withSession(typeof options.repo === 'string' ? options.repo : undefined, fn, {
    trust: trustOptionsOf(options),
    init: options.init === true,
  });
}
