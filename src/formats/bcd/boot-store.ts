// createBootStore(): what `bcdboot W:\Windows /s S: /f UEFI|BIOS` writes into the new store, offline.
//
// Mirrors the bcdboot-made store fixtures/real/bcd/uefi-bcdboot.BCD (UEFI, GPT), object by object:
// - start from the image's BCD-Template when given, else from createBcdTemplate()'s objects;
// - Description: KeyName "BCD00000000", System = 1, TreatAsSystem = 1 (the system store's marks);
// - {bootmgr}: device = system partition, path \EFI\Microsoft\Boot\bootmgfw.efi (UEFI only: a BIOS
//   bootmgr is the file \bootmgr and its object has no path, as BCD-SYS winload.sh does), locale,
//   default = the loader, resumeobject = the resume object, displayorder = [loader]; description,
//   inherit, toolsdisplayorder and timeout come from the template;
// - a Windows Boot Loader (0x10200003): device and osdevice = the Windows partition, path
//   \Windows\system32\winload.efi (BIOS: winload.exe), description, locale, inherit
//   {bootloadersettings}, isolatedcontext Yes (UEFI only), allowedinmemorysettings 0x15000075,
//   systemroot \Windows, resumeobject, nx, bootmenupolicy Standard;
// - a resume object (0x10200004): device and filedevice = the Windows partition, path
//   \Windows\system32\winresume.efi (BIOS: winresume.exe), description "Windows Resume Application",
//   locale, inherit {resumeloadersettings}, isolatedcontext Yes (UEFI only), allowedinmemorysettings
//   0x15000075, filepath \hiberfil.sys, bootmenupolicy Standard, debugoptionenabled No;
// - {memdiag}: device = system partition, path \EFI\Microsoft\Boot\memtest.efi (BIOS:
//   \boot\memtest.exe), locale.
// Not written, because bcdboot takes them from the running machine, not from the image: the
// {fwbootmgr} and firmware-application objects and {bootmgr}'s FirmwareVariable (the UEFI NVRAM
// mirror), flightsigning (Insider machines), the Windows RE loader and its recoverysequence /
// recoveryenabled / displaymessageoverride (set by reagentc), Description\GuidCache.
// The BIOS differences follow BCD-SYS Linux/winload.sh; detecthal is not set (BCD-SYS sets it only for
// Vista; Windows 7 and later detect the HAL always).

import { AppError } from '../../core/errors.ts';
import { guidFromRandom } from '../guid.ts';
import { type BcdDevice, parseDiskSignature } from './device.ts';
import { type BcdValue } from './element.ts';
import { normalizeGuid } from './guid.ts';
import { BcdStore } from './store.ts';
import { OBJECT_TYPES, WELL_KNOWN } from './tables.ts';
import { addTemplateObjects } from './template.ts';

/** Where Windows and its boot files are: a GPT disk by GUIDs, or an MBR disk by signature and byte offsets. */
export type BootDiskLayout =
  | {
      readonly style: 'gpt';
      readonly diskGuid: string;
      readonly systemPartitionGuid: string;
      readonly windowsPartitionGuid: string;
    }
  | {
      readonly style: 'mbr';
      /** 8 hex digits (MBR offset 0x1B8). */
      readonly diskSignature: string;
      readonly systemPartitionOffset: number;
      readonly windowsPartitionOffset: number;
    };

export const NX_POLICIES = { optin: 0, optout: 1, alwaysoff: 2, alwayson: 3 } as const;

export interface BootStoreOptions {
  readonly firmware: 'uefi' | 'bios';
  readonly disk: BootDiskLayout;
  /** The image's Windows\System32\config\BCD-Template; createBcdTemplate()'s objects when absent. */
  readonly template?: Uint8Array;
  /** Default "en-US". */
  readonly locale?: string;
  /** The loader's menu text; default "Windows Server". */
  readonly description?: string;
  /** Default optin (what the fixture's bcdboot wrote; Server editions usually run optout). */
  readonly nx?: keyof typeof NX_POLICIES;
  /** Fixed object GUIDs; random (from `random`) when absent. */
  readonly loaderId?: string;
  readonly resumeId?: string;
  /** n random bytes; needed when loaderId or resumeId is absent (pass crypto.getRandomValues). */
  readonly random?: (length: number) => Uint8Array;
  /** The hive's timestamps (FILETIME); the regf library's clock when absent. */
  readonly clock?: () => bigint;
}

export interface BootStore {
  readonly store: BcdStore;
  readonly loaderId: string;
  readonly resumeId: string;
}

const str = (value: string): BcdValue => ({ format: 'string', value });
const obj = (value: string): BcdValue => ({ format: 'object', value });
const list = (...value: string[]): BcdValue => ({ format: 'objectList', value });
const int = (value: number): BcdValue => ({ format: 'integer', value: BigInt(value) });
const bool = (value: boolean): BcdValue => ({ format: 'boolean', value });
const dev = (value: BcdDevice): BcdValue => ({ format: 'device', value });

/** The boot library setting loaders are allowed to change in memory (0x15000075, performancefrequency). */
const ALLOWED_IN_MEMORY: BcdValue = { format: 'integerList', value: [0x15000075n] };

/** The partition devices of the system (boot files) and Windows partitions. */
export function partitionDevices(disk: BootDiskLayout): { system: BcdDevice; windows: BcdDevice } {
  if (disk.style === 'gpt') {
    const diskGuid = normalizeGuid(disk.diskGuid);
    const part = (g: string): BcdDevice => ({
      kind: 'partition',
      style: 'gpt',
      partitionGuid: normalizeGuid(g),
      diskGuid,
    });
    return { system: part(disk.systemPartitionGuid), windows: part(disk.windowsPartitionGuid) };
  }
  const diskSignature = parseDiskSignature(disk.diskSignature).toString(16).padStart(8, '0');
  const part = (offset: number): BcdDevice => {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new AppError('INVALID_ARGUMENT', `expected a partition byte offset ≥ 0, found ${offset}`, {
        hint: 'give the partition start in bytes (start sector × sector size)',
      });
    }
    return { kind: 'partition', style: 'mbr', partitionOffset: offset, diskSignature };
  };
  return { system: part(disk.systemPartitionOffset), windows: part(disk.windowsPartitionOffset) };
}

/** The ramdisk device WinPE media boot from: [boot]\sources\boot.wim with {ramdiskoptions}. */
export function bootRamdisk(path = '\\sources\\boot.wim'): BcdDevice {
  return { kind: 'ramdisk', path, parent: { kind: 'boot' }, options: WELL_KNOWN.ramdiskoptions };
}

/**
 * Adds (or updates) {ramdiskoptions}, the device-options object a ramdisk device names: where the
 * SDI file is (default: the boot device, \boot\boot.sdi, as WinPE media have it). The elements are
 * those of the fixture's Windows RE device-options object (description 12000004, ramdisksdidevice
 * 31000003, ramdisksdipath 32000004).
 */
export function addRamdiskOptions(
  store: BcdStore,
  options: { readonly sdiDevice?: BcdDevice; readonly sdiPath?: string } = {},
): void {
  const id = WELL_KNOWN.ramdiskoptions;
  if (store.object(id) === undefined) store.createObject(id, OBJECT_TYPES.device);
  store.setElement(id, 0x12000004, str('Ramdisk Options'));
  store.setElement(id, 0x31000003, dev(options.sdiDevice ?? { kind: 'boot' }));
  store.setElement(id, 0x32000004, str(options.sdiPath ?? '\\boot\\boot.sdi'));
}

function newId(given: string | undefined, random: ((n: number) => Uint8Array) | undefined): string {
  if (given !== undefined) return normalizeGuid(given);
  if (random === undefined) {
    throw new AppError(
      'INVALID_ARGUMENT',
      'a new BCD object needs a GUID: none was given and no random source',
      {
        hint: 'pass loaderId/resumeId, or a random source',
      },
    );
  }
  return `{${guidFromRandom(random(16))}}`;
}

/** Builds the boot store bcdboot would write (see the header for every element and its source). */
export function createBootStore(options: BootStoreOptions): BootStore {
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  const store =
    options.template === undefined
      ? BcdStore.create('BCD00000000', clock)
      : BcdStore.parse(options.template, clock);
  addTemplateObjects(store);
  store.setDescription('KeyName', 'BCD00000000');
  store.setDescription('System', 1);
  store.setDescription('TreatAsSystem', 1);

  const uefi = options.firmware === 'uefi';
  const ext = uefi ? 'efi' : 'exe';
  const locale = options.locale ?? 'en-US';
  const { system, windows } = partitionDevices(options.disk);
  const loaderId = newId(options.loaderId, options.random);
  const resumeId = newId(options.resumeId, options.random);

  store.createObject(resumeId, OBJECT_TYPES.resume);
  const resume: (readonly [number, BcdValue | undefined])[] = [
    [0x11000001, dev(windows)],
    [0x12000002, str(`\\Windows\\system32\\winresume.${ext}`)],
    [0x12000004, str('Windows Resume Application')],
    [0x12000005, str(locale)],
    [0x14000006, list(WELL_KNOWN.resumeloadersettings)],
    [0x16000060, uefi ? bool(true) : undefined],
    [0x17000077, ALLOWED_IN_MEMORY],
    [0x21000001, dev(windows)],
    [0x22000002, str('\\hiberfil.sys')],
    [0x25000008, int(1)],
    [0x26000006, bool(false)],
  ];
  for (const [t, v] of resume) if (v !== undefined) store.setElement(resumeId, t, v);

  store.createObject(loaderId, OBJECT_TYPES.osloader);
  const loader: (readonly [number, BcdValue | undefined])[] = [
    [0x11000001, dev(windows)],
    [0x12000002, str(`\\Windows\\system32\\winload.${ext}`)],
    [0x12000004, str(options.description ?? 'Windows Server')],
    [0x12000005, str(locale)],
    [0x14000006, list(WELL_KNOWN.bootloadersettings)],
    [0x16000060, uefi ? bool(true) : undefined],
    [0x17000077, ALLOWED_IN_MEMORY],
    [0x21000001, dev(windows)],
    [0x22000002, str('\\Windows')],
    [0x23000003, obj(resumeId)],
    [0x25000020, int(NX_POLICIES[options.nx ?? 'optin'])],
    [0x250000c2, int(1)],
  ];
  for (const [t, v] of loader) if (v !== undefined) store.setElement(loaderId, t, v);

  const bootmgr = WELL_KNOWN.bootmgr;
  store.setElement(bootmgr, 0x11000001, dev(system));
  if (uefi) store.setElement(bootmgr, 0x12000002, str('\\EFI\\Microsoft\\Boot\\bootmgfw.efi'));
  else store.deleteElement(bootmgr, 0x12000002);
  store.setElement(bootmgr, 0x12000005, str(locale));
  store.setElement(bootmgr, 0x23000003, obj(loaderId));
  store.setElement(bootmgr, 0x23000006, obj(resumeId));
  store.setElement(bootmgr, 0x24000001, list(loaderId));

  const memdiag = WELL_KNOWN.memdiag;
  store.setElement(memdiag, 0x11000001, dev(system));
  store.setElement(
    memdiag,
    0x12000002,
    str(uefi ? '\\EFI\\Microsoft\\Boot\\memtest.efi' : '\\boot\\memtest.exe'),
  );
  store.setElement(memdiag, 0x12000005, str(locale));

  return { store, loaderId, resumeId };
}
