// Per-machine iPXE scripts: pure text from a machine record, never I/O.
// iPXE script syntax (ipxe.org/scripting, ipxe.org/cmd): a script starts with `#!ipxe`; each line is
// a command; `${name}` is expanded from settings, `#` starts a comment, `||` and `&&` (as whole
// words) chain commands. Text taken from a machine (SMBIOS strings, ids from the catalog) is
// untrusted: it goes through bootText (boot-action.ts), which keeps a plain character set so that no value can add
// an expansion, a command, a comment or a line.

import { AppError } from '../core/errors.ts';
import {
  PREPARING_RETRY_SECONDS,
  bootText,
  plainCommandLine,
  scriptAction,
  type ScriptAction,
  type ScriptDeployment,
} from './boot-action.ts';
import { BOOT_HELLO_PATH, bootFileUrl, ipxeScriptUrl } from './boot-url.ts';

export interface ScriptMachine {
  /** Lower-case, colon-separated, e.g. 52:54:00:12:34:56. */
  readonly mac: string;
  readonly uuid: string | null;
  /** `${platform}` as iPXE reported it; anything but 'efi' boots the BIOS way. */
  readonly platform: string | null;
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

export interface RenderedScript {
  readonly action: ScriptAction;
  readonly text: string;
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
 * A URL a script fetches: plain characters only (ours are made of them; anything else is refused).
 * `withQuery`: the script URL itself, whose query carries iPXE's own `${...}` expansions.
 */
function scriptUrl(url: string, withQuery = false): string {
  const plain = withQuery ? url.replace(/\?[A-Za-z0-9=&${}:/]*$/, '') : url;
  if (!/^https?:\/\/[A-Za-z0-9._:[\]/%~-]+$/.test(plain)) {
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
 * token (`initrd=` names the initrd as the kernel sees it, for UEFI). With the environment still
 * being prepared: a wait, then the same script asked for again. With a deployment already under
 * way, or none: the local disk.
 */
export function renderIpxeScript(machine: ScriptMachine, options: ScriptOptions): RenderedScript {
  const mac = bootText(machine.mac);
  const deployment = options.deployment ?? null;
  const action = scriptAction(deployment);
  const lines = ['#!ipxe', `# winsmith boot script for ${mac}: ${action}`];
  lines.push(`echo winsmith: machine ${mac} platform \${platform} arch \${buildarch}`);
  const nonce = options.checkInNonce;
  if (nonce !== null) lines.push(checkInLine({ ...options, checkInNonce: nonce }, machine));
  const text = (): RenderedScript => ({ action, text: `${lines.join('\n')}\n` });
  if (deployment === null) {
    lines.push('echo winsmith: no deployment assigned, booting from the local disk');
  } else if (deployment.kind === 'under-way') {
    lines.push(`echo winsmith: deployment ${bootText(deployment.id)} is under way already`);
    lines.push('echo winsmith: booting from the local disk');
  } else if (deployment.kind === 'preparing') {
    lines.push(
      `echo winsmith: deployment ${bootText(deployment.id)}: the deploy environment is being prepared, asking again in ${PREPARING_RETRY_SECONDS} s`,
    );
    lines.push(`sleep ${PREPARING_RETRY_SECONDS}`);
    lines.push(`chain --autofree ${scriptUrl(ipxeScriptUrl(options.httpBase), true)}`);
    return text();
  } else {
    lines.push(`echo winsmith: deployment ${bootText(deployment.id)}: starting the deploy environment`);
    const kernelUrl = scriptUrl(bootFileUrl(options.httpBase, deployment.kernel));
    lines.push(`kernel ${kernelUrl} initrd=initrd.img ${plainCommandLine(deployment.cmdline)}`);
    lines.push(`initrd --name initrd.img ${scriptUrl(bootFileUrl(options.httpBase, deployment.initrd))}`);
    lines.push('boot || echo winsmith: the deploy environment did not start');
    return text();
  }
  lines.push(localBootCommand(machine.platform));
  return text();
}
