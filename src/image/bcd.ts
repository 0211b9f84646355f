// BCD store files on disk: open one (with its transaction logs, through the registry file helpers),
// describe it as data and as `bcdedit /enum all`-like text, create one as bcdboot does, set and
// delete single elements from command-line text, and write it back atomically.
// The store model and codecs are src/formats/bcd.

import { readFile, writeFile } from 'node:fs/promises';
import { AppError, isAppError } from '../core/errors.ts';
import {
  BcdStore,
  type BcdDevice,
  type BcdObject,
  type BcdValue,
  type BootDiskLayout,
  NX_POLICIES,
  WELL_KNOWN,
  addRamdiskOptions,
  bootRamdisk,
  createBootStore,
  decodeDevice,
  encodeDevice,
  elementFormat,
  elementName,
  elementTypeFromName,
  formatValue,
  isGuid,
  normalizeGuid,
  parseDiskSignature,
  valueToJson,
} from '../formats/bcd/index.ts';
import { writeOutputFile } from '../io/output.ts';
import { requireFile } from '../io/paths.ts';
import { openHiveFile } from './registry.ts';

export async function openBcdFile(path: string, options: { replayLogs?: boolean } = {}): Promise<BcdStore> {
  const hive = await openHiveFile(path, { replayLogs: options.replayLogs === true });
  try {
    return BcdStore.fromHive(hive);
  } catch (e) {
    if (!isAppError(e)) throw e;
    throw new AppError(e.code, `${path} is not a BCD store: ${e.message}`, {
      hint: 'give a BCD file, e.g. EFI\\Microsoft\\Boot\\BCD or Boot\\BCD of a system partition',
      cause: e,
    });
  }
}

export async function writeBcdFile(
  path: string,
  store: BcdStore,
  options: { overwrite: boolean },
): Promise<void> {
  const bytes = store.serialize();
  await writeOutputFile(path, (tmp) => writeFile(tmp, bytes), { overwrite: options.overwrite });
}

export interface BcdObjectJson {
  readonly id: string;
  readonly alias: string | null;
  readonly type: string;
  readonly typeCode: string;
  readonly description: string | null;
  readonly elements: Record<string, unknown>;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export function bcdObjectJson(o: BcdObject): BcdObjectJson {
  const elements: Record<string, unknown> = {};
  for (const e of o.elements) elements[hex8(e.type)] = valueToJson(e.value);
  const description = o.elements.find((e) => e.type === 0x12000004)?.value;
  return {
    id: o.id,
    alias: o.alias ?? null,
    type: o.typeName,
    typeCode: hex8(o.typeCode),
    description: description?.format === 'string' ? description.value : null,
    elements,
  };
}

/** bcdedit's titles for the well-known settings objects (their type name is shared). */
const TITLES: Readonly<Record<string, string>> = {
  '{globalsettings}': 'Global Settings',
  '{dbgsettings}': 'Debugger Settings',
  '{emssettings}': 'EMS Settings',
  '{badmemory}': 'RAM Defects',
  '{bootloadersettings}': 'Boot Loader Settings',
  '{hypervisorsettings}': 'Hypervisor Settings',
  '{resumeloadersettings}': 'Resume Loader Settings',
};

/** Integer settings bcdedit shows by name, by element type and the object's application type. */
const NAMED_INTEGERS: readonly (readonly [number, number | undefined, readonly string[]])[] = [
  [0x25000020, 3, ['OptIn', 'OptOut', 'AlwaysOff', 'AlwaysOn']],
  [0x250000c2, 3, ['Legacy', 'Standard']],
  [0x25000008, 4, ['Legacy', 'Standard']],
  [0x15000011, undefined, ['Serial', '1394', 'USB', 'NET', 'Local']],
];

function shownValue(o: BcdObject, type: number, value: BcdValue): string[] {
  if (value.format === 'integer') {
    const named = NAMED_INTEGERS.find(
      ([t, app]) => t === type && (app === undefined || (o.typeCode & 0xfffff) === app),
    );
    const name = named?.[2][Number(value.value)];
    if (value.value < 16n && name !== undefined) return [name];
  }
  return formatValue(value);
}

/** The objects as `bcdedit /enum all` lists them: a title, the identifier, then "name  value" lines. */
export function bcdText(objects: readonly BcdObject[]): string {
  const blocks = objects.map((o) => {
    const title = (o.alias === undefined ? undefined : TITLES[o.alias]) ?? o.typeName;
    const rows: [string, string][] = [['identifier', o.alias ?? o.id]];
    for (const e of o.elements) {
      const lines = shownValue(o, e.type, e.value);
      rows.push([e.name, lines[0] ?? '']);
      for (const more of lines.slice(1)) rows.push(['', more]);
    }
    return [title, '-'.repeat(title.length), ...rows.map(([k, v]) => `${k.padEnd(23)} ${v}`.trimEnd())].join(
      '\n',
    );
  });
  return blocks.join('\n\n');
}

function badValue(what: string, found: string, hint: string): AppError {
  return new AppError('INVALID_ARGUMENT', `expected ${what}, found "${found}"`, { hint });
}

function parseInteger(text: string): bigint {
  if (!/^(?:0x[0-9a-fA-F]+|\d+)$/.test(text)) {
    throw badValue('an integer (decimal or 0x hex)', text, 'e.g. 30 or 0x15000075');
  }
  const value = BigInt(text);
  if (value >= 1n << 64n) throw badValue('an integer below 2^64', text, 'give a smaller number');
  return value;
}

function parseObjectRef(store: BcdStore, text: string): string {
  return store.resolve(text.trim());
}

/** A device from command-line text: boot | gpt:DISK:PARTITION | mbr:SIGNATURE:OFFSET | ramdisk:PATH | JSON. */
export function parseDeviceText(text: string): BcdDevice {
  const t = text.trim();
  const hint =
    'give boot, gpt:DISKGUID:PARTITIONGUID, mbr:SIGNATURE:BYTEOFFSET, ramdisk:\\sources\\boot.wim, ' +
    'or the JSON `bcd show --json` prints';
  if (t === 'boot') return { kind: 'boot' };
  if (t.startsWith('{') && !isGuid(t)) {
    try {
      return decodeDevice(encodeDevice(JSON.parse(t) as BcdDevice));
    } catch {
      throw badValue('a device', text, hint);
    }
  }
  const [kind, a, b] = t.split(':');
  if (kind === 'ramdisk' && a !== undefined && b === undefined) return bootRamdisk(a);
  if (kind === 'gpt' && a !== undefined && b !== undefined && isGuid(a) && isGuid(b)) {
    return { kind: 'partition', style: 'gpt', diskGuid: normalizeGuid(a), partitionGuid: normalizeGuid(b) };
  }
  if (kind === 'mbr' && a !== undefined && b !== undefined && /^\d+$/.test(b)) {
    const offset = Number(b);
    if (Number.isSafeInteger(offset)) {
      const signature = parseDiskSignature(a).toString(16).padStart(8, '0');
      return { kind: 'partition', style: 'mbr', diskSignature: signature, partitionOffset: offset };
    }
  }
  throw badValue('a device', text, hint);
}

/** A value for an element of `type` from command-line text, by the element's format. */
export function parseElementText(store: BcdStore, type: number, text: string): BcdValue {
  const format = elementFormat(type);
  switch (format) {
    case 'device':
      return { format, value: parseDeviceText(text) };
    case 'string':
      return { format, value: text };
    case 'object':
      return { format, value: parseObjectRef(store, text) };
    case 'objectList':
      return {
        format,
        value: text.trim() === '' ? [] : text.split(',').map((s) => parseObjectRef(store, s)),
      };
    case 'integer':
      return { format, value: parseInteger(text.trim()) };
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (['yes', 'true', 'on', '1'].includes(t)) return { format, value: true };
      if (['no', 'false', 'off', '0'].includes(t)) return { format, value: false };
      throw badValue('yes or no', text, 'give yes/no, true/false, on/off or 1/0');
    }
    case 'integerList':
      return { format, value: text.trim() === '' ? [] : text.split(',').map((s) => parseInteger(s.trim())) };
    case undefined:
      throw new AppError(
        'INVALID_ARGUMENT',
        `element type ${hex8(type)} has no format BCD defines (bits 24–27)`,
        {
          hint: 'check the element type',
        },
      );
  }
}

/** The element type an element name or hex type stands for on object `ref`. */
export function resolveElementType(store: BcdStore, ref: string, name: string): number {
  const object = store.object(ref);
  if (object === undefined) {
    throw new AppError('NOT_FOUND', `the BCD store has no object ${ref}`, {
      hint: 'list the objects with `winsmith bcd show STORE`',
    });
  }
  const type = elementTypeFromName(name, object.typeCode);
  if (type === undefined) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${name}" is not an element name known for a ${object.typeName}`,
      {
        hint: 'use a bcdedit element name (path, description, osdevice, …) or the 8-hex-digit element type',
      },
    );
  }
  return type;
}

/**
 * Sets one element from command-line text (see parseElementText); a ramdisk device that names
 * {ramdiskoptions} brings that object along when the store lacks it. Returns the object's GUID,
 * the element type and the value set.
 */
export function setElementFromText(
  store: BcdStore,
  objectRef: string,
  element: string,
  text: string,
): { id: string; type: number; value: BcdValue } {
  const id = store.resolve(objectRef);
  const type = resolveElementType(store, id, element);
  const value = parseElementText(store, type, text);
  store.setElement(id, type, value);
  if (
    value.format === 'device' &&
    value.value.kind === 'ramdisk' &&
    value.value.options === WELL_KNOWN.ramdiskoptions &&
    store.object(WELL_KNOWN.ramdiskoptions) === undefined
  ) {
    addRamdiskOptions(store);
  }
  return { id, type, value };
}

export function elementLabel(store: BcdStore, ref: string, type: number): string {
  return elementName(type, store.object(ref)?.typeCode ?? 0);
}

/** Parses a partition: a GUID for GPT, a byte offset (decimal) for MBR. */
function partitionArg(text: string, style: 'gpt' | 'mbr', what: string): string | number {
  if (style === 'gpt') {
    if (!isGuid(text))
      throw badValue(`the ${what} as a GPT partition GUID (the disk is GPT)`, text, 'see `sgdisk -i N DISK`');
    return normalizeGuid(text);
  }
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw badValue(
      `the ${what} as a byte offset (the disk is MBR)`,
      text,
      'give start sector × sector size, e.g. 1048576',
    );
  }
  return Number(text);
}

export interface CreateBcdFileOptions {
  readonly firmware: string;
  readonly disk: string;
  readonly systemPartition: string;
  readonly windowsPartition: string;
  readonly template?: string;
  readonly locale?: string;
  readonly description?: string;
  readonly nx?: string;
  readonly loaderId?: string;
  readonly resumeId?: string;
  readonly overwrite?: boolean;
}

/** Writes a new boot store to `out` as bcdboot would; returns its objects. */
export async function createBcdFile(
  out: string,
  o: CreateBcdFileOptions,
): Promise<{ store: BcdStore; loaderId: string; resumeId: string }> {
  if (o.firmware !== 'uefi' && o.firmware !== 'bios') {
    throw badValue(
      '--firmware uefi or bios',
      o.firmware,
      'UEFI machines boot bootmgfw.efi from the ESP, BIOS ones bootmgr',
    );
  }
  const nx = o.nx ?? 'optin';
  if (!(nx in NX_POLICIES))
    throw badValue('--nx optin, optout, alwaysoff or alwayson', nx, 'Server editions use optout');
  let disk: BootDiskLayout;
  if (isGuid(o.disk)) {
    disk = {
      style: 'gpt',
      diskGuid: normalizeGuid(o.disk),
      systemPartitionGuid: String(partitionArg(o.systemPartition, 'gpt', '--system-partition')),
      windowsPartitionGuid: String(partitionArg(o.windowsPartition, 'gpt', '--windows-partition')),
    };
  } else if (/^(?:0x)?[0-9a-fA-F]{1,8}$/.test(o.disk)) {
    disk = {
      style: 'mbr',
      diskSignature: parseDiskSignature(o.disk).toString(16).padStart(8, '0'),
      systemPartitionOffset: Number(partitionArg(o.systemPartition, 'mbr', '--system-partition')),
      windowsPartitionOffset: Number(partitionArg(o.windowsPartition, 'mbr', '--windows-partition')),
    };
  } else {
    throw badValue(
      '--disk as a GPT disk GUID or an MBR disk signature (hex)',
      o.disk,
      'see `sgdisk -p DISK` or `fdisk -l DISK`',
    );
  }
  let template: Uint8Array | undefined;
  if (o.template !== undefined) {
    await requireFile(o.template);
    template = new Uint8Array(await readFile(o.template));
  }
  let result;
  try {
    result = createBootStore({
      firmware: o.firmware,
      disk,
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      nx: nx as keyof typeof NX_POLICIES,
      ...(template === undefined ? {} : { template }),
      ...(o.locale === undefined ? {} : { locale: o.locale }),
      ...(o.description === undefined ? {} : { description: o.description }),
      ...(o.loaderId === undefined ? {} : { loaderId: o.loaderId }),
      ...(o.resumeId === undefined ? {} : { resumeId: o.resumeId }),
    });
  } catch (e) {
    if (!isAppError(e) || o.template === undefined || e.code === 'INVALID_ARGUMENT') throw e;
    throw new AppError(e.code, `${o.template}: ${e.message}`, {
      hint: e.hint ?? 'give the image’s Windows\\System32\\config\\BCD-Template, or leave --template out',
      cause: e,
    });
  }
  await writeBcdFile(out, result.store, { overwrite: o.overwrite === true });
  return result;
}
