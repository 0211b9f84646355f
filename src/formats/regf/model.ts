// The in-memory tree a hive is read into and written from: key nodes with their values, class
// names and shared security descriptors. Spec: msuhanov's regf specification, § Key node,
// § Key value, § Key security (one sk cell is shared by many keys and reference-counted).

import type { RegValue } from './value-codec.ts';

/** One security descriptor (the sk cell's payload), shared by identity between the keys using it. */
export interface SecurityCell {
  readonly descriptor: Uint8Array;
}

export interface KeyNode {
  name: string;
  /** upcaseName(name): the lookup key in the parent's subkey map. */
  upper: string;
  /** The class name's bytes as stored (UTF-16LE), or undefined when the key has none. */
  classBytes: Uint8Array | undefined;
  lastWritten: bigint;
  /** Flags as read, without KEY_COMP_NAME and KEY_HIVE_ENTRY, which the writer sets. */
  flags: number;
  /** The nk's access bits, kept as read. */
  accessBits: number;
  /** The top 16 bits of the nk's "largest subkey name length" field: virtualization/user flags, debug. */
  nameFieldHigh: number;
  security: SecurityCell | undefined;
  parent: KeyNode | undefined;
  /** By upper-cased name. */
  readonly subkeys: Map<string, KeyNode>;
  /** By upper-cased name, in the order the key lists them. */
  readonly values: Map<string, RegValue>;
  deleted: boolean;
}

export function newKeyNode(name: string, upper: string, parent: KeyNode | undefined, time: bigint): KeyNode {
  return {
    name,
    upper,
    classBytes: undefined,
    lastWritten: time,
    flags: 0,
    accessBits: 0,
    nameFieldHigh: 0,
    security: parent?.security,
    parent,
    subkeys: new Map(),
    values: new Map(),
    deleted: false,
  };
}

/** The hive-wide fields of the base block that a rewrite keeps. */
export interface HiveHeader {
  readonly minor: number;
  readonly sequence: number;
  /** The base block's 64-byte file name field (UTF-16LE, for debugging only). */
  readonly fileName: Uint8Array;
}
