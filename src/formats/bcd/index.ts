// BCD (Boot Configuration Data) stores over the regf library: codecs for element values and device
// elements, the BcdStore model, a BCD-Template builder and bcdboot's store creation.

export { BcdStore, MAX_ELEMENTS_PER_OBJECT, MAX_OBJECTS } from './store.ts';
export type { BcdElement, BcdObject } from './store.ts';
export { createBcdTemplate, addTemplateObjects, TEMPLATE_KEY_NAME } from './template.ts';
export {
  addRamdiskOptions,
  bootRamdisk,
  createBootStore,
  NX_POLICIES,
  partitionDevices,
} from './boot-store.ts';
export type { BootDiskLayout, BootStore, BootStoreOptions } from './boot-store.ts';
export { decodeElement, encodeElement, formatValue, readElement, valueToJson } from './element.ts';
export type { BcdValue, EncodedElement } from './element.ts';
export { decodeDevice, encodeDevice, formatDevice, parseDiskSignature } from './device.ts';
export type { BcdDevice } from './device.ts';
export { guidFromBytes, guidToBytes, isGuid, normalizeGuid } from './guid.ts';
export {
  OBJECT_TYPES,
  WELL_KNOWN,
  aliasOf,
  elementFormat,
  elementName,
  elementTypeFromName,
  guidOfAlias,
  objectTypeName,
  splitElementType,
} from './tables.ts';
