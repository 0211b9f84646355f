// `winsmith bootenv lock`: pins the deploy environment's packages (and all they depend on) to what
// the machine's apt sources offer now, in the lock the build reads (bootenv.lock.json).

import { DEFAULT_BOOTENV_LOCK, writeBootEnvLock } from '../../app/bootenv.ts';
import type { CliCommand } from '../command.ts';

export const bootenvLock: CliCommand = {
  path: ['bootenv', 'lock'],
  summary: "pin the deploy environment's Debian packages to the versions apt offers now (bootenv.lock.json)",
  define(command) {
    command.option('--lock <file>', 'the lock to write', DEFAULT_BOOTENV_LOCK);
  },
  async run(_ctx, _args, options) {
    const file = String(options.lock);
    const { lock, created, changes } = await writeBootEnvLock(file);
    const count = `${file}: ${lock.packages.length} packages`;
    if (created) return { data: { file, created, lock, changes }, text: `${count}, a new lock` };
    const lines = changes.map((c) => `  ${c.name}: ${c.from ?? '(new)'} -> ${c.to ?? '(removed)'}`);
    const summary = `${count}, ${changes.length === 0 ? 'none' : changes.length} changed`;
    return { data: { file, created, lock, changes }, text: [summary, ...lines].join('\n') };
  },
};
