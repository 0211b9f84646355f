// The loader chains a UEFI machine can be sent to, as the server's config and a profile name them
// (`uefiChain:`): `shim` (shim → GRUB → kernel, all signed: runs under Secure Boot) or `ipxe`;
// `auto` lets the server choose by the machine's Secure Boot state (src/boot/boot-chain.ts).

import { AppError } from './errors.ts';

export const UEFI_CHAINS = ['shim', 'ipxe'] as const;
export type UefiChain = (typeof UEFI_CHAINS)[number];

export const UEFI_CHAIN_SETTINGS = ['auto', ...UEFI_CHAINS] as const;
export type UefiChainSetting = (typeof UEFI_CHAIN_SETTINGS)[number];

/** `--uefi-chain`'s value as a setting; anything else is refused naming the option. */
export function parseUefiChainOption(value: string): UefiChainSetting {
  const found = UEFI_CHAIN_SETTINGS.find((c) => c === value);
  if (found === undefined) {
    throw new AppError('INVALID_ARGUMENT', `--uefi-chain: expected auto, shim or ipxe, found '${value}'`, {
      hint: 'shim for machines with Secure Boot on, ipxe for the others, auto to choose by what they reported',
    });
  }
  return found;
}
