// `winsmith init PATH`: a new repository in a data directory, for `--repo PATH` to name. The other
// commands never make one, so that a mistyped --repo is an error and not a new empty repository.

import { initRepository } from '../../app/open-session.ts';
import type { CliCommand } from '../command.ts';

export const init: CliCommand = {
  path: ['init'],
  summary: 'make a new repository in a data directory (new or empty) for --repo to name',
  define(command) {
    command.argument('<path>', 'the data directory to make, e.g. ./repo');
  },
  async run(_ctx, args) {
    const path = String(args[0]);
    const result = await initRepository(path);
    return {
      data: { path: result.dir, created: result.created },
      text: result.created
        ? `made a repository in ${path}; use it with --repo ${path}`
        : `${path} is a repository already; left as it is`,
    };
  },
};
