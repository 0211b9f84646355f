// The regf (Windows registry hive) library: read a hive from bytes (replaying its transaction logs
// when asked), edit keys and values, write a valid clean hive. Spec: msuhanov, "Windows registry
// file format specification" (github msuhanov/regf); the sections each file follows are cited in
// its header.

export { Hive } from './hive.ts';
export type { CreateHiveOptions, HiveKey, OpenHiveOptions } from './hive.ts';
export { REG_TYPES, decodeRegData, encodeRegData, regTypeName } from './value-codec.ts';
export type { RegData, RegValue } from './value-codec.ts';
