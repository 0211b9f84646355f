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
export type ScriptAction = 'local-boot' | 'deploy-placeholder';

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

/**
 * The iPXE script for one machine. With a deployment: the deploy-environment placeholder (it names
 * the deployment and boots from the local disk — the deploy environment itself is not built yet, and
 * nothing here writes a disk). Without: boot from the local disk.
 */
export function renderIpxeScript(machine: ScriptMachine, options: ScriptOptions): RenderedScript {
  const mac = ipxeText(machine.mac);
  const deployment = options.deployment ?? null;
  const action: ScriptAction = deployment === null ? 'local-boot' : 'deploy-placeholder';
  const lines = ['#!ipxe', `# winsmith boot script for ${mac}: ${action}`];
  lines.push(`echo winsmith: machine ${mac} platform \${platform} arch \${buildarch}`);
  const nonce = options.checkInNonce;
  if (nonce !== null) lines.push(checkInLine({ ...options, checkInNonce: nonce }, machine));
  if (deployment === null) {
    lines.push('echo winsmith: no deployment assigned, booting from the local disk');
  } else {
    lines.push(`echo winsmith: deployment ${ipxeText(deployment.id)} is assigned`);
    lines.push('echo winsmith: the deploy environment is not available, booting from the local disk');
  }
  lines.push(localBootCommand(machine.platform));
  return { action, text: `${lines.join('\n')}\n` };
}
