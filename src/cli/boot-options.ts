// The network boot options of `winsmith server` (--tftp, --boot-root, --ipxe-dir, --boot-url) and
// the boot settings they make. Boot is on when one of them is given; the HTTP boot routes are then
// mounted on the server, and TFTP runs under the server's lifecycle.

import { join } from 'node:path';
import type { Command } from 'commander';
import type { BootSettings } from '../boot/boot-services.ts';
import { parseListen } from '../config/server-config.ts';
import { AppError } from '../core/errors.ts';

export function addBootOptions(command: Command): Command {
  return command
    .option('--tftp <host:port>', 'serve the boot root over TFTP on this address (e.g. 10.0.0.1:69)')
    .option(
      '--boot-root <dir>',
      'boot files directory served over TFTP and at /boot/files (default DATA/boot)',
    )
    .option(
      '--ipxe-dir <dir>',
      "other iPXE builds (undionly.kpxe, ipxe.efi, snponly.efi) instead of Debian's ipxe",
    )
    .option(
      '--boot-url <url>',
      'base URL machines reach this server at (default: the address each request came to)',
    );
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The boot settings the flags give, or null when none of them is given (boot off). */
export function bootSettingsOf(
  options: Readonly<Record<string, unknown>>,
  dataDir: string,
): BootSettings | null {
  const tftp = str(options.tftp);
  const bootRoot = str(options.bootRoot);
  const ipxeDir = str(options.ipxeDir);
  const bootUrl = str(options.bootUrl);
  if (tftp === undefined && bootRoot === undefined && ipxeDir === undefined && bootUrl === undefined)
    return null;
  if (bootUrl !== undefined && !/^http:\/\/[^/?#\s]+\/?$/.test(bootUrl)) {
    throw new AppError('INVALID_ARGUMENT', `--boot-url: expected http://HOST[:PORT], found '${bootUrl}'`, {
      hint: 'give the address machines reach the server at, e.g. http://10.0.0.1:8080',
    });
  }
  return {
    bootRoot: bootRoot ?? join(dataDir, 'boot'),
    ipxeDir: ipxeDir ?? null,
    tftp: tftp === undefined ? null : parseListen(tftp, '--tftp'),
    httpBase: bootUrl ?? null,
  };
}
