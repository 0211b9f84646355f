// The HTTP boot URLs iPXE is sent to, and the query names of /boot/ipxe: the one place both sides
// (the DHCP reply to iPXE clients and the HTTP route that reads the query) take them from.
// iPXE expands `${...}` settings in a DHCP filename and in `chain` URLs (iPXE docs, "settings");
// `:uristring` percent-encodes a value so SMBIOS text cannot break the query.

/** Query parameter name → the iPXE setting expansion that fills it. */
export const IPXE_SCRIPT_QUERY = {
  mac: '${net0/mac:hexhyp}',
  uuid: '${uuid}',
  serial: '${serial:uristring}',
  manufacturer: '${manufacturer:uristring}',
  product: '${product:uristring}',
  buildarch: '${buildarch}',
  platform: '${platform}',
} as const;

export type IpxeScriptQueryName = keyof typeof IPXE_SCRIPT_QUERY;

export const IPXE_SCRIPT_PATH = '/boot/ipxe';
export const BOOT_FILES_PATH = '/boot/files';
export const BOOT_HELLO_PATH = '/boot/hello';

function trimBase(httpBase: string): string {
  return httpBase.replace(/\/+$/, '');
}

/**
 * The URL an iPXE client is chained to (DHCP filename for user class "iPXE"), e.g.
 * `http://10.0.0.1:8080/boot/ipxe?mac=${net0/mac:hexhyp}&uuid=${uuid}&...`.
 */
export function ipxeScriptUrl(httpBase: string): string {
  const query = Object.entries(IPXE_SCRIPT_QUERY)
    .map(([name, expansion]) => `${name}=${expansion}`)
    .join('&');
  return `${trimBase(httpBase)}${IPXE_SCRIPT_PATH}?${query}`;
}

/** The URL of a boot file served over HTTP (for UEFI HTTP boot clients and scripts). */
export function bootFileUrl(httpBase: string, name: string): string {
  return `${trimBase(httpBase)}${BOOT_FILES_PATH}/${encodeURIComponent(name)}`;
}
