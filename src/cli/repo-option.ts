// The --repo option shared by the repository commands, and opening/closing what it names.

import type { Command } from 'commander';
import { openRepository, type OpenedRepository } from '../store/repository-open.ts';

export function addRepoOption(command: Command): Command {
  return command.option('--repo <url|path>', 'a server URL or a data directory (default: $WINSMITH_REPO)');
}

export async function withRepository<T>(
  options: Readonly<Record<string, unknown>>,
  fn: (opened: OpenedRepository) => Promise<T>,
): Promise<T> {
  const opened = await openRepository(typeof options.repo === 'string' ? options.repo : undefined);
  try {
    return await fn(opened);
  } finally {
    await opened.repo.close();
  }
}
