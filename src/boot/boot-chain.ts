// Which loader chain a UEFI machine is sent to when it PXE-boots (DHCP client architecture 7 or 9):
// `shim` — Debian's shim signed by Microsoft's UEFI CA, then Debian's signed GRUB, then Debian's
// signed kernel, which a firmware enforcing Secure Boot runs — or `ipxe` — Debian's iPXE, which
// such a firmware refuses (it is not signed). A profile's choice for its deployments comes first,
// then the server's for every UEFI machine; `auto` at both follows the machine's last report
// (shim when Secure Boot was on; iPXE when it was off, or never told). BIOS machines always get iPXE.

import type { UefiChain, UefiChainSetting } from '../core/uefi-chain.ts';

export type { UefiChain, UefiChainSetting } from '../core/uefi-chain.ts';

/** The DHCP boot file of the shim chain; shim then loads `grubx64.efi` from the same directory. */
export const SHIM_BOOT_FILE = 'shimx64.efi';

export interface UefiChainInputs {
  /** The server's setting. */
  readonly server: UefiChainSetting;
  /** The setting of the profile of the machine's deployment under way; null: none. */
  readonly profile: UefiChainSetting | null;
  /** Secure Boot as the machine last reported it; null: never reported (or an unknown machine). */
  readonly secureBoot: boolean | null;
}

export function chooseUefiChain(inputs: UefiChainInputs): UefiChain {
  if (inputs.profile !== null && inputs.profile !== 'auto') return inputs.profile;
  if (inputs.server !== 'auto') return inputs.server;
  return inputs.secureBoot === true ? 'shim' : 'ipxe';
}
