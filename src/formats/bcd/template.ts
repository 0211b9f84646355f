// createBcdTemplate(): a new store holding what Windows' %WINDIR%\System32\config\BCD-Template holds,
// for images that lack one and for the sample image (which puts this at that path).
//
// Where each part comes from (no Microsoft file is copied; the contents are rebuilt from these):
// - Root key "NewStoreRoot": the root name of the bcdboot-made fixture fixtures/real/bcd/uefi-bcdboot.BCD
//   and of BCD-SYS Templates/BCD-NEW (a store made by bcdedit /createstore).
// - Description\KeyName "BCD00000001": the name a non-system store gets when bcdedit loads it (BCD-SYS
//   merges its templates under that prefix). Not verified against a real BCD-Template; bcdboot's
//   output (createBootStore) sets the system store's "BCD00000000" with System = TreatAsSystem = 1.
// - The inheritable objects and their elements, {memdiag} and the template part of {bootmgr}: exactly
//   those found in the fixture (a store bcdboot copied from a BCD-Template and then extended), minus
//   what bcdboot adds per machine (devices, paths, locale, default, display order, resume object);
//   the same set is in BCD-SYS Templates/winload.reg:
//     {globalsettings}      0x20100000 inherit {dbgsettings} {emssettings} {badmemory}
//     {dbgsettings}         0x20100000 debugtype 4 (Local)
//     {emssettings}         0x20100000 bootems No
//     {badmemory}           0x20100000 (no elements)
//     {bootloadersettings}  0x20200003 inherit {globalsettings} {hypervisorsettings}
//     {hypervisorsettings}  0x20200003 hypervisordebugtype 0 (Serial), hypervisordebugport 1,
//                                      hypervisorbaudrate 115200
//     {resumeloadersettings} 0x20200004 inherit {globalsettings}
//     {memdiag}             0x10200005 description "Windows Memory Diagnostic", inherit {globalsettings},
//                                      badmemoryaccess Yes
//     {bootmgr}             0x10100002 description "Windows Boot Manager", inherit {globalsettings},
//                                      toolsdisplayorder {memdiag}, timeout 30
// - No {ramdiskoptions} or {ntldr}: the fixture (made from a BCD-Template) has neither (boot-store.ts
//   addRamdiskOptions adds {ramdiskoptions} to stores that boot a ramdisk). No {fwbootmgr}: bcdboot
//   makes it from the running machine's UEFI NVRAM.

import { type Hive } from '../regf/index.ts';
import { type BcdValue } from './element.ts';
import { BcdStore } from './store.ts';
import { OBJECT_TYPES, WELL_KNOWN } from './tables.ts';

const str = (value: string): BcdValue => ({ format: 'string', value });
const int = (value: number): BcdValue => ({ format: 'integer', value: BigInt(value) });
const bool = (value: boolean): BcdValue => ({ format: 'boolean', value });
const list = (...value: string[]): BcdValue => ({ format: 'objectList', value });

export const TEMPLATE_KEY_NAME = 'BCD00000001';

/** Adds the template's objects to `store` (objects already there are left alone). */
export function addTemplateObjects(store: BcdStore): void {
  const add = (id: string, type: number, elements: readonly (readonly [number, BcdValue])[]): void => {
    if (store.object(id) !== undefined) return;
    store.createObject(id, type);
    for (const [t, v] of elements) store.setElement(id, t, v);
  };
  add(WELL_KNOWN.globalsettings, OBJECT_TYPES.inheritLibrary, [
    [0x14000006, list(WELL_KNOWN.dbgsettings, WELL_KNOWN.emssettings, WELL_KNOWN.badmemory)],
  ]);
  add(WELL_KNOWN.dbgsettings, OBJECT_TYPES.inheritLibrary, [[0x15000011, int(4)]]);
  add(WELL_KNOWN.emssettings, OBJECT_TYPES.inheritLibrary, [[0x16000020, bool(false)]]);
  add(WELL_KNOWN.badmemory, OBJECT_TYPES.inheritLibrary, []);
  add(WELL_KNOWN.bootloadersettings, OBJECT_TYPES.inheritOsloader, [
    [0x14000006, list(WELL_KNOWN.globalsettings, WELL_KNOWN.hypervisorsettings)],
  ]);
  add(WELL_KNOWN.hypervisorsettings, OBJECT_TYPES.inheritOsloader, [
    [0x250000f3, int(0)],
    [0x250000f4, int(1)],
    [0x250000f5, int(115200)],
  ]);
  add(WELL_KNOWN.resumeloadersettings, OBJECT_TYPES.inheritResume, [
    [0x14000006, list(WELL_KNOWN.globalsettings)],
  ]);
  add(WELL_KNOWN.memdiag, OBJECT_TYPES.memdiag, [
    [0x12000004, str('Windows Memory Diagnostic')],
    [0x14000006, list(WELL_KNOWN.globalsettings)],
    [0x1600000b, bool(true)],
  ]);
  add(WELL_KNOWN.bootmgr, OBJECT_TYPES.bootmgr, [
    [0x12000004, str('Windows Boot Manager')],
    [0x14000006, list(WELL_KNOWN.globalsettings)],
    [0x24000010, list(WELL_KNOWN.memdiag)],
    [0x25000004, int(30)],
  ]);
}

/** A new BCD-Template store (see the header for what it holds and why). */
export function createBcdTemplate(options: { readonly clock?: () => bigint } = {}): Hive {
  const store = BcdStore.create(TEMPLATE_KEY_NAME, options);
  addTemplateObjects(store);
  return store.hive;
}
