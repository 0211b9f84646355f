// What a machine's boot config does, whichever loader runs it (iPXE: ipxe-script.ts; GRUB under
// Secure Boot: grub-config.ts): the step of its deployment, chosen here once for both, and the
// rules for what an untrusted value or a command line may hold before it is written into one.

import { AppError } from '../core/errors.ts';

/**
 * What a machine's deployment asks of its boot config:
 * - `start`: boot the deploy environment (once: the deployment was queued), its kernel and initrd
 *   (boot file names, under the boot root), with the command line that names the server and gives
 *   the agent its token;
 * - `preparing`: the environment is not ready yet (the server builds it on first need): wait, then
 *   ask for the config again;
 * - `under-way`: the environment was started already; the machine boots from its local disk.
 */
export type ScriptDeployment =
  | {
      readonly id: string;
      readonly kind: 'start';
      readonly kernel: string;
      readonly initrd: string;
      readonly cmdline: string;
    }
  | { readonly id: string; readonly kind: 'preparing' }
  | { readonly id: string; readonly kind: 'under-way' };

/** What a boot config does, stated in its header and returned to the caller for logs. */
export type ScriptAction = 'local-boot' | 'deploy' | 'deploy-preparing' | 'deploy-under-way';

/** How long a machine waits before asking again while the deploy environment is prepared. */
export const PREPARING_RETRY_SECONDS = 15;

/** The action of a boot config for a machine with this deployment (null: none). */
export function scriptAction(deployment: ScriptDeployment | null): ScriptAction {
  if (deployment === null) return 'local-boot';
  switch (deployment.kind) {
    case 'start':
      return 'deploy';
    case 'preparing':
      return 'deploy-preparing';
    case 'under-way':
      return 'deploy-under-way';
  }
}

/** Longest untrusted value put into a boot config; longer text is cut (an echo line, not a record). */
export const BOOT_TEXT_MAX = 80;

/**
 * Untrusted text made safe for a boot config line (an iPXE command, or a GRUB word in double
 * quotes): letters, digits and ` ._:/@+,=-` are kept, every other character (`$ { } # | & ; " '
 * \`, controls, line breaks, non-ASCII) becomes `_`, so that no value can add an expansion, a
 * command, a comment, a quote or a line.
 */
export function bootText(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9 ._:/@+,=-]/g, '_').trim();
  return cleaned.length > BOOT_TEXT_MAX ? cleaned.slice(0, BOOT_TEXT_MAX) : cleaned;
}

/** The deploy environment's command line, refused when it holds a character no config may carry. */
export function plainCommandLine(cmdline: string): string {
  if (!/^[A-Za-z0-9 ._:/=,@+-]*$/.test(cmdline)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      'the deploy environment command line has characters a boot config cannot carry',
      { hint: 'this is a bug in winsmith' },
    );
  }
  return cmdline;
}
