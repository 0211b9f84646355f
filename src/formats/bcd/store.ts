// A BCD store: a registry hive laid out as
//   Description\KeyName (REG_SZ), System / TreatAsSystem (REG_DWORD, system stores only)
//   Objects\{guid}\Description\Type (REG_DWORD object type)
//   Objects\{guid}\Elements\<8 hex digits element type>\Element (value by the element's format)
// Sources: /work/shared/research/windows-formats.md §2.1; checked against the bcdboot-made store
// fixtures/real/bcd/uefi-bcdboot.BCD. Works on src/formats/regf's Hive; element values go through
// element.ts.

import { AppError, FormatError } from '../../core/errors.ts';
import { Hive, type HiveKey, type OpenHiveOptions, REG_TYPES } from '../regf/index.ts';
import { type BcdValue, encodeElement, readElement } from './element.ts';
import { isGuid, normalizeGuid } from './guid.ts';
import {
  aliasOf,
  elementKeyName,
  elementName,
  guidOfAlias,
  objectTypeName,
  parseElementKeyName,
  WELL_KNOWN,
} from './tables.ts';
import { utf16z } from '../utf16.ts';

/** Real stores hold a few dozen objects with a few dozen elements each. */
export const MAX_OBJECTS = 10_000;
export const MAX_ELEMENTS_PER_OBJECT = 10_000;

export interface BcdElement {
  readonly type: number;
  /** bcdedit's name for it on this object, or "custom:xxxxxxxx". */
  readonly name: string;
  readonly value: BcdValue;
}

export interface BcdObject {
  /** "{guid}", lower case. */
  readonly id: string;
  /** "{bootmgr}" etc. for the well-known objects. */
  readonly alias: string | undefined;
  readonly typeCode: number;
  /** e.g. "Windows Boot Loader". */
  readonly typeName: string;
  readonly elements: readonly BcdElement[];
}

function u32(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
}

function dword(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(0, value >>> 0, true);
  return out;
}

export class BcdStore {
  readonly hive: Hive;

  private constructor(hive: Hive) {
    this.hive = hive;
  }

  /**
   * Parses and checks a store: every object has a type (FormatError otherwise); an element that does
   * not decode is kept as an 'undecoded' value (element.ts readElement), not a failure of the store.
   */
  static parse(bytes: Uint8Array, options: OpenHiveOptions = {}): BcdStore {
    const store = BcdStore.fromHive(Hive.parse(bytes, options));
    store.objects();
    return store;
  }

  /** A store over a hive; the hive must have an Objects key. */
  static fromHive(hive: Hive): BcdStore {
    if (hive.getKey('Objects') === undefined) {
      throw new FormatError('expected a BCD store (a hive with an Objects key), found a hive without one');
    }
    return new BcdStore(hive);
  }

  /** A new empty store: root "NewStoreRoot", as bcdedit /createstore names it, Description\KeyName `keyName`. */
  static create(keyName: string, options: { readonly clock?: () => bigint } = {}): BcdStore {
    const hive = Hive.create('NewStoreRoot', options.clock === undefined ? {} : { clock: options.clock });
    hive.ensureKey('Description').setValue('KeyName', REG_TYPES.REG_SZ, utf16z(keyName));
    hive.ensureKey('Objects');
    return new BcdStore(hive);
  }

  serialize(): Uint8Array {
    return this.hive.serialize();
  }

  /** The key of Objects. */
  private objectsKey(): HiveKey {
    const key = this.hive.getKey('Objects');
    if (key === undefined) throw new FormatError('the BCD store has lost its Objects key');
    return key;
  }

  /**
   * "{bootmgr}", "bootmgr" or a GUID → the object's "{guid}" (whether or not it exists); "{default}"
   * → the object {bootmgr}'s default element names.
   */
  resolve(ref: string): string {
    if (ref.toLowerCase() === '{default}') {
      const value = this.getElement(WELL_KNOWN.bootmgr, 0x23000003);
      if (value?.format === 'object') return value.value;
      throw new AppError('NOT_FOUND', 'the BCD store has no {default}: {bootmgr} names no default object', {
        hint: 'give the object GUID; list the objects with `winsmith bcd show STORE`',
      });
    }
    const known = guidOfAlias(ref);
    if (known !== undefined) return known;
    if (isGuid(ref)) return normalizeGuid(ref);
    throw new AppError(
      'INVALID_ARGUMENT',
      `expected an object GUID or an alias such as {bootmgr}, found "${ref}"`,
      {
        hint: 'list the objects with `winsmith bcd show STORE`',
      },
    );
  }

  private objectKey(ref: string): HiveKey | undefined {
    return this.objectsKey().subkey(this.resolve(ref));
  }

  private requireObjectKey(ref: string): HiveKey {
    const key = this.objectKey(ref);
    if (key === undefined) {
      throw new AppError('NOT_FOUND', `the BCD store has no object ${ref}`, {
        hint: 'list the objects with `winsmith bcd show STORE`',
      });
    }
    return key;
  }

  private readObject(key: HiveKey): BcdObject {
    if (!isGuid(key.name)) {
      throw new FormatError(`expected BCD object keys named by GUID, found "${key.name}"`);
    }
    const id = normalizeGuid(key.name);
    const typeValue = key.subkey('Description')?.value('Type');
    if (typeValue?.type !== REG_TYPES.REG_DWORD || typeValue.data.length !== 4) {
      throw new FormatError(`BCD object ${id} has no Description\\Type DWORD`);
    }
    const typeCode = u32(typeValue.data);
    const elementKeys = key.subkey('Elements')?.subkeys() ?? [];
    if (elementKeys.length > MAX_ELEMENTS_PER_OBJECT) {
      throw new FormatError(`BCD object ${id} has more than ${MAX_ELEMENTS_PER_OBJECT} elements`, {
        code: 'LIMIT_EXCEEDED',
      });
    }
    const elements = elementKeys.map((ek): BcdElement => {
      const type = parseElementKeyName(ek.name);
      if (type === undefined) {
        throw new FormatError(`BCD object ${id}: expected element keys of 8 hex digits, found "${ek.name}"`);
      }
      const v = ek.value('Element');
      if (v === undefined) throw new FormatError(`BCD object ${id}: element ${ek.name} has no Element value`);
      return { type, name: elementName(type, typeCode), value: readElement(type, v.type, v.data) };
    });
    return { id, alias: aliasOf(id), typeCode, typeName: objectTypeName(typeCode), elements };
  }

  /** Every object, in hive order (sorted by GUID). */
  objects(): BcdObject[] {
    const keys = this.objectsKey().subkeys();
    if (keys.length > MAX_OBJECTS) {
      throw new FormatError(`a BCD store is limited to ${MAX_OBJECTS} objects, found ${keys.length}`, {
        code: 'LIMIT_EXCEEDED',
      });
    }
    return keys.map((k) => this.readObject(k));
  }

  object(ref: string): BcdObject | undefined {
    const key = this.objectKey(ref);
    return key === undefined ? undefined : this.readObject(key);
  }

  getElement(ref: string, type: number): BcdValue | undefined {
    const key = this.objectKey(ref)?.subkey('Elements')?.subkey(elementKeyName(type));
    const v = key?.value('Element');
    return v === undefined ? undefined : readElement(type, v.type, v.data);
  }

  setElement(ref: string, type: number, value: BcdValue): void {
    const encoded = encodeElement(type, value);
    const key = this.requireObjectKey(ref).createSubkey('Elements').createSubkey(elementKeyName(type));
    key.setValue('Element', encoded.regType, encoded.data);
  }

  deleteElement(ref: string, type: number): boolean {
    const key = this.requireObjectKey(ref);
    return this.hive.deleteKey(`${key.path}\\Elements\\${elementKeyName(type)}`);
  }

  /** Adds an object of `typeCode`; ALREADY_EXISTS when there is one with that id. */
  createObject(ref: string, typeCode: number): string {
    const id = this.resolve(ref);
    if (this.objectsKey().subkey(id) !== undefined) {
      throw new AppError('ALREADY_EXISTS', `the BCD store already has an object ${id}`, {
        hint: 'pick another GUID, or change the existing object',
      });
    }
    const key = this.objectsKey().createSubkey(id);
    key.createSubkey('Description').setValue('Type', REG_TYPES.REG_DWORD, dword(typeCode));
    key.createSubkey('Elements');
    return id;
  }

  deleteObject(ref: string): boolean {
    return this.hive.deleteKey(`Objects\\${this.resolve(ref)}`);
  }

  /** Sets a REG_SZ or REG_DWORD under the store's Description key (KeyName, System, TreatAsSystem). */
  setDescription(name: string, value: string | number): void {
    const key = this.hive.ensureKey('Description');
    if (typeof value === 'string') key.setValue(name, REG_TYPES.REG_SZ, utf16z(value));
    else key.setValue(name, REG_TYPES.REG_DWORD, dword(value));
  }
}
