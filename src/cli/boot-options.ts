// The network boot options of `winsmith server` (--tftp, --tftp-max-timeout, --tftp-per-client,
// --boot-root, --ipxe-dir, --boot-url, --dhcp, --interface, --dhcp-range, --uefi-chain, --bootenv) and the boot
// settings they make. Boot is on when one of them
// is given; the HTTP boot routes are then mounted on the server, and TFTP and DHCP run under the
// server's lifecycle.

import { join } from 'node:path';
import type { Command } from 'commander';
import type { BootDhcpSettings, BootSettings } from '../app/netboot.ts';
import { parseListen } from '../config/server-config.ts';
import { AppError } from '../core/errors.ts';
import { parseUefiChainOption, type UefiChainSetting } from '../core/uefi-chain.ts';

export function addBootOptions(command: Command): Command {
  return command
    .option('--tftp <host:port>', 'serve the boot root over TFTP on this address (e.g. 10.0.0.1:69)')
    .option(
      '--tftp-max-timeout <seconds>',
      "largest TFTP timeout option agreed, 1-255 (default 5); a client asking for more gets the server's own",
    )
    .option('--tftp-per-client <n>', 'TFTP transfers at once from one client address (default 8)')
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
    )
    .option(
      '--dhcp <mode>',
      'off, proxy (boot options beside another DHCP server) or full (addresses too)',
      'off',
    )
    .option('--interface <if>', 'the boot network interface DHCP answers on (with --dhcp proxy|full)')
    .option('--dhcp-range <first-last>', 'addresses given out in --dhcp full, e.g. 10.0.0.100-10.0.0.199')
    .option(
      '--uefi-chain <chain>',
      "UEFI machines boot shim → GRUB (Secure Boot), ipxe, or auto: shim when they reported Secure Boot on (default: the config's boot.uefiChain, else auto)",
    )
    .option(
      '--bootenv <dir>',
      "the deploy environment 'winsmith bootenv build -o DIR' made (default: built on first need in DATA/bootenv)",
    );
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A whole number flag in [min, max], or null when not given. */
function wholeNumber(value: unknown, flag: string, min: number, max: number): number | null {
  const given = str(value);
  if (given === undefined) return null;
  const n = /^\d{1,6}$/.test(given) ? Number(given) : NaN;
  if (!(n >= min && n <= max)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${flag}: expected a whole number in ${min}-${max}, found '${given}'`,
      {
        hint: `e.g. ${flag} ${min === 1 && max === 255 ? '5' : '8'}`,
      },
    );
  }
  return n;
}

/**
 * The boot settings the flags give, or null when none of them is given (boot off) and no boot
 * listener is configured (`bootListener`: one is, which turns boot on).
 */
export function bootSettingsOf(
  options: Readonly<Record<string, unknown>>,
  dataDir: string,
  configuredChain: UefiChainSetting = 'auto',
  bootListener = false,
): BootSettings | null {
  const tftp = str(options.tftp);
  const maxTimeoutSeconds = wholeNumber(options.tftpMaxTimeout, '--tftp-max-timeout', 1, 255);
  const maxPerAddress = wholeNumber(options.tftpPerClient, '--tftp-per-client', 1, 65535);
  if (tftp === undefined && (maxTimeoutSeconds !== null || maxPerAddress !== null)) {
    throw new AppError(
      'USAGE',
      '--tftp-max-timeout and --tftp-per-client are for TFTP, but --tftp is not given',
      {
        hint: 'add --tftp HOST:PORT',
      },
    );
  }
  const bootRoot = str(options.bootRoot);
  const ipxeDir = str(options.ipxeDir);
  const bootUrl = str(options.bootUrl);
  const bootenv = str(options.bootenv);
  const dhcp = dhcpSettingsOf(options);
  const chain = str(options.uefiChain);
  const uefiChain = chain === undefined ? configuredChain : parseUefiChainOption(chain);
  if (
    !bootListener &&
    tftp === undefined &&
    bootRoot === undefined &&
    ipxeDir === undefined &&
    bootUrl === undefined &&
    bootenv === undefined &&
    dhcp === null
  )
    return null;
  if (bootUrl !== undefined && !/^http:\/\/[^/?#\s]+\/?$/.test(bootUrl)) {
    throw new AppError('INVALID_ARGUMENT', `--boot-url: expected http://HOST[:PORT], found '${bootUrl}'`, {
      hint: 'give the address machines reach the server at, e.g. http://10.0.0.1:8080',
    });
  }
  return {
    bootRoot: bootRoot ?? join(dataDir, 'boot'),
    ipxeDir: ipxeDir ?? null,
    tftp: tftp === undefined ? null : { ...parseListen(tftp, '--tftp'), maxTimeoutSeconds, maxPerAddress },
    httpBase: bootUrl ?? null,
    dhcp,
    deployEnvironment: bootenv ?? null,
    uefiChain,
  };
}

/** One hour: long enough for a deployment, short enough that a lab's addresses come back. */
export const DEFAULT_LEASE_SECONDS = 3600;

function dhcpSettingsOf(options: Readonly<Record<string, unknown>>): BootDhcpSettings | null {
  const mode = str(options.dhcp) ?? 'off';
  const iface = str(options.interface);
  const range = str(options.dhcpRange);
  if (mode !== 'off' && mode !== 'proxy' && mode !== 'full') {
    throw new AppError('USAGE', `--dhcp: expected off, proxy or full, found '${mode}'`, {
      hint: 'proxy when another DHCP server gives addresses, full on an isolated network',
    });
  }
  if (mode === 'off') {
    if (range !== undefined) {
      throw new AppError('USAGE', '--dhcp-range is given but --dhcp is off', { hint: 'add --dhcp full' });
    }
    return null;
  }
  if (iface === undefined) {
    throw new AppError('USAGE', `--dhcp ${mode} needs --interface`, {
      hint: 'name the boot network interface, e.g. --interface br0',
    });
  }
  if (mode === 'proxy') {
    if (range !== undefined) {
      throw new AppError('USAGE', '--dhcp-range is for --dhcp full', {
        hint: 'drop --dhcp-range in proxy mode',
      });
    }
    return { mode, interface: iface, range: null, leaseSeconds: DEFAULT_LEASE_SECONDS };
  }
  const ipv4 = '(\\d{1,3}(?:\\.\\d{1,3}){3})';
  const m = range === undefined ? null : new RegExp(`^${ipv4}-${ipv4}$`).exec(range);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    throw new AppError('USAGE', `--dhcp full needs --dhcp-range FIRST-LAST, found '${range ?? ''}'`, {
      hint: 'e.g. --dhcp-range 10.0.0.100-10.0.0.199',
    });
  }
  return { mode, interface: iface, range: { start: m[1], end: m[2] }, leaseSeconds: DEFAULT_LEASE_SECONDS };
}
