// The public KMS client setup keys (GVLKs) of Windows Server, from Microsoft's "Key Management
// Services (KMS) client activation and product keys" (learn.microsoft.com/windows-server/get-started/
// kms-client-activation-keys), by release build and by the EditionID Windows records in the image
// (SOFTWARE\Microsoft\Windows NT\CurrentVersion\EditionID; the WIM's <FLAGS>). Server Core and
// Desktop Experience share a key; ServerTurbine is Datacenter: Azure Edition, ServerSolution Essentials.

/** Server release build numbers. */
export const SERVER_BUILDS = { 2016: 14393, 2019: 17763, 2022: 20348, 2025: 26100 } as const;
export type ServerRelease = keyof typeof SERVER_BUILDS;

const KEYS: Readonly<Record<ServerRelease, Readonly<Record<string, string>>>> = {
  2016: {
    ServerStandard: 'WC2BQ-8NRM3-FDDYY-2BFGV-KHKQY',
    ServerDatacenter: 'CB7KF-BWN84-R7R2Y-793K2-8XDDG',
    ServerSolution: 'JCKRF-N37P4-C2D82-9YXRT-4M63B',
  },
  2019: {
    ServerStandard: 'N69G4-B89J2-4G8F4-WWYCC-J464C',
    ServerDatacenter: 'WMDGN-G9PQG-XVVXX-R3X43-63DFG',
    ServerSolution: 'WVDHN-86M7X-466P6-VHXV7-YY726',
  },
  2022: {
    ServerStandard: 'VDYBN-27WPP-V4HQT-9VMD4-VMK7H',
    ServerDatacenter: 'WX4NM-KYWYW-QJJR4-XV3QB-6VM33',
    ServerTurbine: 'NTBV8-9K7Q8-V27C6-M2BTV-KHMXV',
  },
  2025: {
    ServerStandard: 'TVRH6-WHNXV-R9WG3-9XRFY-MY832',
    ServerDatacenter: 'D764K-2NDRG-47T6Q-P8T8W-YP6DF',
    ServerTurbine: 'XGN3F-F394H-FD2MY-PP6FD-8MCRC',
  },
};

/** The release of a build number: the newest release whose build is at most `build`. */
export function serverReleaseOf(build: number): ServerRelease | undefined {
  let found: ServerRelease | undefined;
  for (const [release, b] of Object.entries(SERVER_BUILDS))
    if (build >= b) found = Number(release) as ServerRelease;
  return found;
}

/** Core editions (ServerStandardCore, ServerDatacenterCor, ServerTurbineCor) use their edition's key. */
function baseEdition(editionId: string): string {
  return editionId.toLowerCase().replace(/cor(e)?$/, '');
}

function keyOf(table: Readonly<Record<string, string>>, editionId: string): string | undefined {
  const want = baseEdition(editionId);
  return Object.entries(table).find(([k]) => k.toLowerCase() === want)?.[1];
}

/** The GVLK of an edition on a build, or undefined when Microsoft publishes none. */
export function kmsClientKey(editionId: string, build: number): string | undefined {
  const release = serverReleaseOf(build);
  return release === undefined ? undefined : keyOf(KEYS[release], editionId);
}

/** The editions with a key for a build (for messages). */
export function kmsEditions(build: number): string[] {
  const release = serverReleaseOf(build);
  return release === undefined ? [] : Object.keys(KEYS[release]);
}
