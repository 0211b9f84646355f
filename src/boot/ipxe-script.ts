// Per-machine iPXE scripts: pure text from a machine record, never I/O.
// iPXE script syntax (ipxe.org/scripting, ipxe.org/cmd): a script starts with `#!ipxe`; each line is
// a command; `${name}` is expanded from settings, `#` starts a comment, `||` and `&&` (as whole
// words) chain commands. Text taken from a machine (SMBIOS strings, ids from the catalog) is
// untrusted: it goes through ipxeText, which keeps a plain character set so that no value can add
// an expansion, a command, a comment or a line.

import { AppError } from '../core/errors.ts';
import { BOOT_HELLO_PATH } from './boot-url.ts';

export interface ScriptMachine {
  /** Lower-case, colon-separated, e.g. 52:54:00:12:34:56. */
  readonly mac: string;
  readonly uuid: string | null;
  /** `${platform}` as iPXE reported it; anything but 'efi' boots the BIOS way. */
  readonly platform: string | null;
}

export interface ScriptDeployment {
  readonly id: string;
  /**
   * The deploy environment to start, once (the deployment was queued): its kernel and initrd URLs
   * and the kernel command line that names the server and gives the agent its token. Null: the
   * deployment is under way already, or the environment is not available; the machine boots local.
   */
  readonly start: {
    readonly kernelUrl: string;
    readonly initrdUrl: string;
    readonly cmdline: string;
  } | null;
}

export interface ScriptOptions {
  /** Base URL of the HTTP server as the client reaches it, e.g. http://10.99.0.1:8080. */
  readonly httpBase: string;
  /**
   * Random token of this render; the script sends it back to /boot/hello to prove it ran. Null for
   * a machine not in the catalog (not registered): its script does not check in.
   */
  readonly checkInNonce: string | null;
  readonly deployment?: ScriptDeployment | null;
}

/** What a script does, stated in its header and returned to the caller for logs. */
export type ScriptAction = 'local-boot' | 'deploy' | 'deploy-waiting';

export interface RenderedScript {
  readonly action: ScriptAction;
  readonly text: string;
}

/** Longest untrusted value put into a script; longer text is cut (an echo line, not a record). */
export const IPXE_TEXT_MAX = 80;

/**
 * Untrusted text made safe for an iPXE command line: letters, digits and ` ._:/@+,=-` are kept,
 * every other character (`$ { } # | & ; " ' \`, controls, line breaks, non-ASCII) becomes `_`.
 */
export function ipxeText(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9 ._:/@+,=-]/g, '_').trim();
  return cleaned.length > IPXE_TEXT_MAX ? cleaned.slice(0, IPXE_TEXT_MAX) : cleaned;
}

/** The command that leaves iPXE for the local disk: SAN-boot drive 0x80 on BIOS, exit on UEFI. */
export function localBootCommand(platform: string | null): string {
  return platform === 'efi' ? 'exit' : 'sanboot --no-describe --drive 0x80';
}

/** Percent-encodes all but unreserved characters (RFC 3986 §2.3), so a value cannot quote or expand. */
function uriComponent(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function checkInLine(
  options: ScriptOptions & { readonly checkInNonce: string },
  machine: ScriptMachine,
): string {
  const base = options.httpBase.replace(/\/+$/, '');
  if (!/^https?:\/\/[A-Za-z0-9._:[\]-]+(\/[A-Za-z0-9._~/-]*)?$/.test(base)) {
    throw new AppError('INVALID_ARGUMENT', `boot URL ${JSON.stringify(base)} is not a plain http:// URL`, {
      hint: 'give the server address clients reach, e.g. http://10.0.0.1:8080',
    });
  }
  const query = `mac=${uriComponent(machine.mac)}&nonce=${uriComponent(options.checkInNonce)}`;
  const url = `${base}${BOOT_HELLO_PATH}?${query}`;
  return `imgfetch --name winsmith-checkin ${url} && imgfree winsmith-checkin || echo winsmith: check-in failed`;
}

/** A URL a script fetches: plain characters only (ours are made of them; anything else is refused). */
function scriptUrl(url: string): string {
  if (!/^https?:\/\/[A-Za-z0-9._:[\]/%~-]+$/.test(url)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `boot URL ${JSON.stringify(url.slice(0, 120))} is not a plain http:// URL`,
      {
        hint: 'give the server address clients reach, e.g. http://10.0.0.1:8080',
      },
    );
  }
  return url;
}

/**
 * The iPXE script for one machine. With a deployment to start: the deploy environment's kernel and
 * initrd over HTTP, booted with the command line that names the server and carries the agent's
 * token (`initrd=` names the initrd as the kernel sees it, for UEFI). With a deployment already
 * under way, or no environment: it says so and boots from the local disk. Without: local disk.
 */
export function renderIpxeScript(machine: ScriptMachine, options: ScriptOptions): RenderedScript {
  const mac = ipxeText(machine.mac);
  const deployment = options.deployment ?? null;
  const action: ScriptAction =
    deployment === null ? 'local-boot' : deployment.start === null ? 'deploy-waiting' : 'deploy';
  const lines = ['#!ipxe', `# winsmith boot script for ${mac}: ${action}`];
  lines.push(`echo winsmith: machine ${mac} platform \${platform} arch \${buildarch}`);
  const nonce = options.checkInNonce;
  if (nonce !== null) lines.push(checkInLine({ ...options, checkInNonce: nonce }, machine));
  if (deployment === null) {
    lines.push('echo winsmith: no deployment assigned, booting from the local disk');
  } else if (deployment.start === null) {
    lines.push(`echo winsmith: deployment ${ipxeText(deployment.id)} is under way or cannot start now`);
    lines.push('echo winsmith: booting from the local disk');
  } else {
    const { kernelUrl, initrdUrl, cmdline } = deployment.start;
    if (!/^[A-Za-z0-9 ._:/=,@+-]*$/.test(cmdline)) {
      throw new AppError(
        'INVALID_ARGUMENT',
        'the deploy environment command line has characters a script cannot carry',
        {
          hint: 'this is a bug in winsmith',
        },
      );
    }
    lines.push(`echo winsmith: deployment ${ipxeText(deployment.id)}: starting the deploy environment`);
    lines.push(`kernel ${scriptUrl(kernelUrl)} initrd=initrd.img ${cmdline}`);
    lines.push(`initrd --name initrd.img ${scriptUrl(initrdUrl)}`);
    lines.push('boot || echo winsmith: the deploy environment did not start');
    return { action, text: `${lines.join('\n')}\n` };
  }
  lines.push(localBootCommand(machine.platform));
  return { action, text: `${lines.join('\n')}\n` };
}
