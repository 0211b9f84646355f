// GRUB configs for network boot under Secure Boot: pure text, never I/O. The chain is shim →
// GRUB → kernel, all three over TFTP: Debian's signed network GRUB (grubnetx64.efi.signed, 2.06)
// holds the `efinet` and `tftp` modules but not `http`, and under Secure Boot it loads no module
// that is not built in. GRUB reads `grub.cfg` from its prefix, `(tftp,SERVER)/grub`: winsmith puts
// a fixed one there (GRUB_MAIN_CONFIG), which reads each machine's own from the server by MAC
// (`$net_default_mac`, lower case with colons). GRUB script (GRUB manual, "Shell-like scripting"):
// `$name` expands inside double quotes, `source` runs a file in the same variables, `exit`
// (outside a `configfile`) returns to the firmware, which tries its next boot entry. GRUB 2.06 sets
// and exports `lockdown=y` when it runs under Secure Boot: the check-in sends it back.
// Untrusted text goes through bootText and into double quotes only.

import { AppError } from '../core/errors.ts';
import {
  bootText,
  plainCommandLine,
  scriptAction,
  type ScriptAction,
  type ScriptDeployment,
} from './boot-action.ts';

/** The directory GRUB's prefix points at, under the boot root (Debian's netboot image: `/grub`). */
export const GRUB_DIR = 'grub';
/** The per-machine configs and check-ins the TFTP server makes up, under GRUB_DIR. */
const MACHINE_DIR = 'winsmith/machine';
const HELLO_DIR = 'winsmith/hello';
/** The variable a machine's config sets to `y` to be read again (while the environment is prepared). */
const AGAIN = 'winsmith_again';

/**
 * `grub/grub.cfg` in the boot root: reads the machine's own config by its MAC, again as long as
 * that config asks to be, then returns to the firmware.
 */
export const GRUB_MAIN_CONFIG = [
  '# winsmith: GRUB over the network. Each machine gets its own config from the server, by MAC.',
  `set ${AGAIN}=y`,
  `while [ "$${AGAIN}" = y ]; do`,
  `  set ${AGAIN}=n`,
  `  source "$prefix/${MACHINE_DIR}/$net_default_mac"`,
  'done',
  'echo "winsmith: no boot config for $net_default_mac, back to the firmware"',
  'exit',
  '',
].join('\n');

export interface GrubMachine {
  /** Lower-case, colon-separated, e.g. 52:54:00:12:34:56. */
  readonly mac: string;
}

export interface GrubConfigOptions {
  /**
   * Random token of this render; the config sends it back (with GRUB's `lockdown`) to prove it
   * ran. Null for a machine not in the catalog (not registered): its config does not check in.
   */
  readonly checkInNonce: string | null;
  readonly deployment?: ScriptDeployment | null;
}

export interface RenderedGrubConfig {
  readonly action: ScriptAction;
  readonly text: string;
}

/** What a TFTP file name under GRUB_DIR asks for: a machine's config or a check-in; null for neither. */
export type GrubRequest =
  | { readonly kind: 'config'; readonly mac: string }
  | {
      readonly kind: 'check-in';
      readonly mac: string;
      readonly nonce: string;
      /** GRUB's `lockdown`: true when it runs under Secure Boot. */
      readonly secureBoot: boolean;
    };

const MAC = '[0-9a-f]{2}(?::[0-9a-f]{2}){5}';
const CONFIG_PATH = new RegExp(`^${GRUB_DIR}/${MACHINE_DIR}/(${MAC})$`);
const HELLO_PATH = new RegExp(`^${GRUB_DIR}/${HELLO_DIR}/(${MAC})/([0-9a-f]{1,64})/sb-(y?)$`);

/** Reads a TFTP file name (its path segments under the root joined by `/`) as a GRUB request. */
export function parseGrubRequest(path: string): GrubRequest | null {
  const config = CONFIG_PATH.exec(path);
  if (config?.[1] !== undefined) return { kind: 'config', mac: config[1] };
  const hello = HELLO_PATH.exec(path);
  if (hello?.[1] !== undefined && hello[2] !== undefined) {
    return { kind: 'check-in', mac: hello[1], nonce: hello[2], secureBoot: hello[3] === 'y' };
  }
  return null;
}

/** A boot file name as GRUB reads it from its root, the TFTP server: plain characters only. */
function bootFilePath(name: string): string {
  if (!/^[A-Za-z0-9._+-]{1,255}$/.test(name)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `boot file name ${JSON.stringify(name.slice(0, 80))} is not plain`,
      {
        hint: 'this is a bug in winsmith',
      },
    );
  }
  return `/${name}`;
}

/** What the server answers a check-in with: a line for the console. */
export const GRUB_CHECKED_IN = 'echo "winsmith: checked in"\n';

/**
 * The GRUB config of one machine: the same actions as its iPXE script (boot-action.ts). With a
 * deployment to start: the deploy environment's signed kernel (checked by shim) and its initrd
 * over TFTP, with the command line that names the server and carries the agent's token. With the
 * environment still being prepared: the config read again at once (the server answers it when the
 * environment is ready, or after a while: grub-boot.ts). With a deployment already
 * under way, or none: back to the firmware, which boots the local disk.
 */
export function renderGrubConfig(machine: GrubMachine, options: GrubConfigOptions): RenderedGrubConfig {
  const mac = bootText(machine.mac);
  const deployment = options.deployment ?? null;
  const action = scriptAction(deployment);
  const lines = [`# winsmith boot config for ${mac}: ${action}`];
  lines.push(`echo "winsmith: machine ${mac}, GRUB $grub_platform, lockdown [$lockdown]"`);
  const nonce = options.checkInNonce;
  if (nonce !== null) {
    if (!/^[0-9a-f]{1,64}$/.test(nonce)) {
      throw new AppError('INVALID_ARGUMENT', 'a check-in nonce must be hexadecimal', {
        hint: 'this is a bug in winsmith',
      });
    }
    lines.push(`source "$prefix/${HELLO_DIR}/${mac}/${nonce}/sb-$lockdown"`);
  }
  const text = (): RenderedGrubConfig => ({ action, text: `${lines.join('\n')}\n` });
  if (deployment === null) {
    lines.push('echo "winsmith: no deployment assigned, booting from the local disk"');
  } else if (deployment.kind === 'under-way') {
    lines.push(`echo "winsmith: deployment ${bootText(deployment.id)} is under way already"`);
    lines.push('echo "winsmith: booting from the local disk"');
  } else if (deployment.kind === 'preparing') {
    // No `sleep`: the server holds its answer (grub-boot.ts), as GRUB's clock may run slow.
    lines.push(
      `echo "winsmith: deployment ${bootText(deployment.id)}: the deploy environment is being prepared, asking again"`,
    );
    lines.push(`set ${AGAIN}=y`);
    return text();
  } else {
    lines.push(`echo "winsmith: deployment ${bootText(deployment.id)}: starting the deploy environment"`);
    lines.push(`linux ${bootFilePath(deployment.kernel)} ${plainCommandLine(deployment.cmdline)}`);
    lines.push(`initrd ${bootFilePath(deployment.initrd)}`);
    lines.push('boot');
    lines.push('echo "winsmith: the deploy environment did not start"');
  }
  lines.push('exit');
  return text();
}
