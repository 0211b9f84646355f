// The vocabulary of BCD: how an element type number splits into class, format and subtype; how an
// object type number splits into kind, image/inherit class and application type; the well-known
// object GUIDs with their bcdedit aliases; and the element names as bcdedit shows them.
// Sources: Microsoft "BcdElementType" (Class:4 | Format:4 | SubType:24) and the enumerations
// BcdLibraryElementTypes, BcdBootMgrElementTypes, BcdOSLoaderElementTypes, BcdResumeElementTypes,
// BcdMemDiagElementTypes, BcdDeviceObjectElementTypes (learn.microsoft.com, previous-versions/windows/
// desktop/bcd); "BCD object types" (BcdObject.Type: object kind bits 28–31, image type / inherit class
// bits 20–23, application type bits 0–19); the element names are those of `bcdedit /enum all`.
// Research notes: /work/shared/research/windows-formats.md §2.1.

export const ELEMENT_FORMATS = {
  1: 'device',
  2: 'string',
  3: 'object',
  4: 'objectList',
  5: 'integer',
  6: 'boolean',
  7: 'integerList',
} as const;

export type ElementFormat = (typeof ELEMENT_FORMATS)[keyof typeof ELEMENT_FORMATS];

export const ELEMENT_CLASSES = {
  1: 'library',
  2: 'application',
  3: 'device',
  4: 'template',
  5: 'oem',
} as const;

export interface ElementTypeParts {
  readonly class: number;
  readonly format: number;
  readonly subtype: number;
}

export function splitElementType(type: number): ElementTypeParts {
  return { class: (type >>> 28) & 0xf, format: (type >>> 24) & 0xf, subtype: type & 0xffffff };
}

/** The format name of an element type, or undefined for a format number BCD does not define. */
export function elementFormat(type: number): ElementFormat | undefined {
  const f = splitElementType(type).format;
  return f >= 1 && f <= 7 ? ELEMENT_FORMATS[f as keyof typeof ELEMENT_FORMATS] : undefined;
}

/** Element key names are 8 lower-case hex digits. */
export function elementKeyName(type: number): string {
  return (type >>> 0).toString(16).padStart(8, '0');
}

/** Parses an element key name ("12000004"); undefined when it is not 8 hex digits. */
export function parseElementKeyName(name: string): number | undefined {
  return /^[0-9a-fA-F]{8}$/.test(name) ? parseInt(name, 16) : undefined;
}

export const OBJECT_TYPES = {
  fwbootmgr: 0x10100001,
  bootmgr: 0x10100002,
  osloader: 0x10200003,
  resume: 0x10200004,
  memdiag: 0x10200005,
  ntldr: 0x10300006,
  bootsector: 0x10400008,
  firmwareApplication: 0x101fffff,
  inheritLibrary: 0x20100000,
  inheritOsloader: 0x20200003,
  inheritResume: 0x20200004,
  device: 0x30000000,
} as const;

const OBJECT_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x10100001, 'Firmware Boot Manager'],
  [0x10100002, 'Windows Boot Manager'],
  [0x10200003, 'Windows Boot Loader'],
  [0x10200004, 'Resume from Hibernate'],
  [0x10200005, 'Windows Memory Tester'],
  [0x10300006, 'Legacy OS Loader'],
  [0x10400008, 'Real-mode Boot Sector'],
  [0x101fffff, 'Firmware Application'],
  [0x20100000, 'Inheritable Settings'],
  [0x20200003, 'Boot Loader Settings'],
  [0x20200004, 'Resume Loader Settings'],
  [0x30000000, 'Device Options'],
]);

/** A person's name for an object type, e.g. "Windows Boot Loader"; unknown types give their hex form. */
export function objectTypeName(type: number): string {
  const known = OBJECT_TYPE_NAMES.get(type);
  if (known !== undefined) return known;
  const kind = type >>> 28;
  const hex = elementKeyName(type);
  if (kind === 1) return `Application (${hex})`;
  if (kind === 2) return `Inheritable Settings (${hex})`;
  if (kind === 3) return `Device Options (${hex})`;
  return `Unknown (${hex})`;
}

export interface WellKnownObject {
  readonly alias: string;
  readonly guid: string;
}

export const WELL_KNOWN_OBJECTS: readonly WellKnownObject[] = [
  { alias: '{fwbootmgr}', guid: '{a5a30fa2-3d06-4e9f-b5f4-a01df9d1fcba}' },
  { alias: '{bootmgr}', guid: '{9dea862c-5cdd-4e70-acc1-f32b344d4795}' },
  { alias: '{memdiag}', guid: '{b2721d73-1db4-4c62-bf78-c548a880142d}' },
  { alias: '{ntldr}', guid: '{466f5a88-0af2-4f76-9038-095b170dc21c}' },
  { alias: '{globalsettings}', guid: '{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}' },
  { alias: '{bootloadersettings}', guid: '{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}' },
  { alias: '{resumeloadersettings}', guid: '{1afa9c49-16ab-4a5c-901b-212802da9460}' },
  { alias: '{hypervisorsettings}', guid: '{7ff607e0-4395-11db-b0de-0800200c9a66}' },
  { alias: '{dbgsettings}', guid: '{4636856e-540f-4170-a130-a84776f4c654}' },
  { alias: '{emssettings}', guid: '{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}' },
  { alias: '{badmemory}', guid: '{5189b25c-5558-4bf2-bca4-289b11bd29e2}' },
  { alias: '{ramdiskoptions}', guid: '{ae5534e0-a924-466c-b836-758539a3ee3a}' },
];

/** GUIDs of the well-known objects by alias without braces, e.g. WELL_KNOWN.bootmgr. */
export const WELL_KNOWN = {
  fwbootmgr: '{a5a30fa2-3d06-4e9f-b5f4-a01df9d1fcba}',
  bootmgr: '{9dea862c-5cdd-4e70-acc1-f32b344d4795}',
  memdiag: '{b2721d73-1db4-4c62-bf78-c548a880142d}',
  ntldr: '{466f5a88-0af2-4f76-9038-095b170dc21c}',
  globalsettings: '{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}',
  bootloadersettings: '{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}',
  resumeloadersettings: '{1afa9c49-16ab-4a5c-901b-212802da9460}',
  hypervisorsettings: '{7ff607e0-4395-11db-b0de-0800200c9a66}',
  dbgsettings: '{4636856e-540f-4170-a130-a84776f4c654}',
  emssettings: '{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}',
  badmemory: '{5189b25c-5558-4bf2-bca4-289b11bd29e2}',
  ramdiskoptions: '{ae5534e0-a924-466c-b836-758539a3ee3a}',
} as const;

/** The alias of a well-known object GUID (any case, braces optional), or undefined. */
export function aliasOf(guid: string): string | undefined {
  const g = (guid.startsWith('{') ? guid : `{${guid}}`).toLowerCase();
  return WELL_KNOWN_OBJECTS.find((o) => o.guid === g)?.alias;
}

/** The GUID of an alias ("{bootmgr}" or "bootmgr", any case), or undefined. */
export function guidOfAlias(alias: string): string | undefined {
  const a = (alias.startsWith('{') ? alias : `{${alias}}`).toLowerCase();
  return WELL_KNOWN_OBJECTS.find((o) => o.alias === a)?.guid;
}

type NameTable = ReadonlyMap<number, string>;

const LIBRARY_NAMES: NameTable = new Map([
  [0x11000001, 'device'],
  [0x12000002, 'path'],
  [0x12000004, 'description'],
  [0x12000005, 'locale'],
  [0x14000006, 'inherit'],
  [0x15000007, 'truncatememory'],
  [0x14000008, 'recoverysequence'],
  [0x16000009, 'recoveryenabled'],
  [0x1700000a, 'badmemorylist'],
  [0x1600000b, 'badmemoryaccess'],
  [0x1500000c, 'firstmegabytepolicy'],
  [0x16000010, 'bootdebug'],
  [0x15000011, 'debugtype'],
  [0x15000012, 'debugaddress'],
  [0x15000013, 'debugport'],
  [0x15000014, 'baudrate'],
  [0x15000015, 'channel'],
  [0x12000016, 'targetname'],
  [0x16000017, 'noumex'],
  [0x15000018, 'debugstart'],
  [0x12000019, 'busparams'],
  [0x1500001a, 'hostip'],
  [0x1500001b, 'port'],
  [0x1600001c, 'dhcp'],
  [0x1200001d, 'key'],
  [0x16000020, 'bootems'],
  [0x15000022, 'emsport'],
  [0x15000023, 'emsbaudrate'],
  [0x12000030, 'loadoptions'],
  [0x16000040, 'advancedoptions'],
  [0x16000041, 'optionsedit'],
  [0x16000046, 'graphicsmodedisabled'],
  [0x15000047, 'configaccesspolicy'],
  [0x16000048, 'nointegritychecks'],
  [0x16000049, 'testsigning'],
  [0x1200004a, 'fontpath'],
  [0x16000050, 'extendedinput'],
  [0x15000052, 'graphicsresolution'],
  [0x16000053, 'restartonfailure'],
  [0x16000054, 'highestmode'],
  [0x16000060, 'isolatedcontext'],
  [0x15000065, 'displaymessage'],
  [0x15000066, 'displaymessageoverride'],
  [0x1600006c, 'bootuxdisabled'],
  [0x16000074, 'bootshutdowndisabled'],
  [0x17000077, 'allowedinmemorysettings'],
  [0x1600007b, 'forcefipscrypto'],
  [0x1600007e, 'flightsigning'],
]);

const BOOTMGR_NAMES: NameTable = new Map([
  [0x24000001, 'displayorder'],
  [0x24000002, 'bootsequence'],
  [0x23000003, 'default'],
  [0x25000004, 'timeout'],
  [0x26000005, 'resume'],
  [0x23000006, 'resumeobject'],
  [0x24000010, 'toolsdisplayorder'],
  [0x26000020, 'displaybootmenu'],
  [0x26000021, 'noerrordisplay'],
  [0x21000022, 'bcddevice'],
  [0x22000023, 'bcdfilepath'],
  [0x27000030, 'customactions'],
]);

const OSLOADER_NAMES: NameTable = new Map([
  [0x21000001, 'osdevice'],
  [0x22000002, 'systemroot'],
  [0x23000003, 'resumeobject'],
  [0x26000010, 'detecthal'],
  [0x22000011, 'kernel'],
  [0x22000012, 'hal'],
  [0x22000013, 'dbgtransport'],
  [0x25000020, 'nx'],
  [0x25000021, 'pae'],
  [0x26000022, 'winpe'],
  [0x26000024, 'nocrashautoreboot'],
  [0x26000025, 'lastknowngood'],
  [0x26000030, 'nolowmem'],
  [0x25000031, 'removememory'],
  [0x25000032, 'increaseuserva'],
  [0x26000040, 'vga'],
  [0x26000041, 'quietboot'],
  [0x26000042, 'novesa'],
  [0x26000043, 'novga'],
  [0x26000060, 'onecpu'],
  [0x25000061, 'numproc'],
  [0x26000062, 'maxproc'],
  [0x25000080, 'safeboot'],
  [0x26000081, 'safebootalternateshell'],
  [0x26000090, 'bootlog'],
  [0x26000091, 'sos'],
  [0x260000a0, 'debug'],
  [0x260000a2, 'useplatformclock'],
  [0x260000b0, 'ems'],
  [0x250000c1, 'driverloadfailurepolicy'],
  [0x250000c2, 'bootmenupolicy'],
  [0x250000e0, 'bootstatuspolicy'],
  [0x260000e1, 'disableelamdrivers'],
  [0x250000f0, 'hypervisorlaunchtype'],
  [0x260000f2, 'hypervisordebug'],
  [0x250000f3, 'hypervisordebugtype'],
  [0x250000f4, 'hypervisordebugport'],
  [0x250000f5, 'hypervisorbaudrate'],
  [0x250000f6, 'hypervisorchannel'],
]);

const RESUME_NAMES: NameTable = new Map([
  [0x21000001, 'filedevice'],
  [0x22000002, 'filepath'],
  [0x26000003, 'customsettings'],
  [0x26000004, 'pae'],
  [0x21000005, 'associatedosdevice'],
  [0x26000006, 'debugoptionenabled'],
  [0x25000007, 'bootux'],
  [0x25000008, 'bootmenupolicy'],
]);

const MEMDIAG_NAMES: NameTable = new Map([
  [0x25000001, 'passcount'],
  [0x25000002, 'testmix'],
  [0x25000003, 'failurecount'],
  [0x25000004, 'testtofail'],
  [0x26000005, 'cacheenable'],
]);

const DEVICE_NAMES: NameTable = new Map([
  [0x35000001, 'ramdiskimageoffset'],
  [0x35000002, 'ramdisktftpclientport'],
  [0x31000003, 'ramdisksdidevice'],
  [0x32000004, 'ramdisksdipath'],
  [0x35000005, 'ramdiskimagelength'],
  [0x36000006, 'exportascd'],
  [0x35000007, 'ramdisktftpblocksize'],
  [0x35000008, 'ramdisktftpwindowsize'],
  [0x36000009, 'ramdiskmcenabled'],
  [0x3600000a, 'ramdiskmctftpfallback'],
]);

/** The application type (low 20 bits) an object type's application-class elements belong to. */
function applicationTable(objectType: number): NameTable | undefined {
  const kind = objectType >>> 28;
  const inheritClass = (objectType >>> 20) & 0xf;
  if (kind === 2 && inheritClass !== 2) return undefined;
  if (kind !== 1 && kind !== 2) return undefined;
  switch (objectType & 0xfffff) {
    case 1:
    case 2:
      return BOOTMGR_NAMES;
    case 3:
      return OSLOADER_NAMES;
    case 4:
      return RESUME_NAMES;
    case 5:
      return MEMDIAG_NAMES;
    default:
      return undefined;
  }
}

function tableFor(elementType: number, objectType: number): NameTable | undefined {
  switch (elementType >>> 28) {
    case 1:
      return LIBRARY_NAMES;
    case 2:
      return applicationTable(objectType);
    case 3:
      return DEVICE_NAMES;
    default:
      return undefined;
  }
}

/** bcdedit's name of an element on an object of `objectType`; "custom:xxxxxxxx" when it has none. */
export function elementName(elementType: number, objectType: number): string {
  return tableFor(elementType, objectType)?.get(elementType) ?? `custom:${elementKeyName(elementType)}`;
}

/**
 * The element type a bcdedit name ("path", "osdevice") or hex form ("12000002", "custom:12000002",
 * "0x12000002") stands for on an object of `objectType`, or undefined.
 */
export function elementTypeFromName(name: string, objectType: number): number | undefined {
  const hex = /^(?:custom:|0x)?([0-9a-fA-F]{8})$/.exec(name);
  if (hex?.[1] !== undefined) return parseInt(hex[1], 16);
  const wanted = name.toLowerCase();
  for (const table of [LIBRARY_NAMES, applicationTable(objectType), DEVICE_NAMES]) {
    if (table === undefined) continue;
    for (const [type, n] of table) if (n === wanted) return type;
  }
  return undefined;
}
