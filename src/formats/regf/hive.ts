// A registry hive held in memory: read from a regf primary file (replaying its transaction logs
// when asked), edited through HiveKey handles, and written back as a compact clean hive.
// Spec: msuhanov, "Windows registry file format specification" (github msuhanov/regf):
// § Dirty state of a hive (wrong checksum or unequal sequence numbers), § Base block,
// § Key node; the reading and writing of cells is in read-hive.ts and write-hive.ts, the
// transaction logs in logs.ts.

import { AppError } from '../../core/errors.ts';
import { defaultSecurityDescriptor } from './default-security.ts';
import {
  BB,
  MAX_KEY_DEPTH,
  MAX_KEY_NAME_CHARS,
  MAX_SUBKEYS_PER_KEY,
  MAX_VALUE_NAME_CHARS,
  MAX_VALUE_SIZE,
  MAX_VALUES_PER_KEY,
  baseBlockChecksum,
  compareUpper,
  filetimeNow,
  readU32,
  upcaseName,
} from './layout.ts';
import { recoverHive } from './logs.ts';
import { newKeyNode, type HiveHeader, type KeyNode } from './model.ts';
import { checkBaseBlockSignature, readHiveTree } from './read-hive.ts';
import { utf16leString } from '../utf16.ts';
import type { RegValue } from './value-codec.ts';
import { writeHiveTree } from './write-hive.ts';

export interface OpenHiveOptions {
  /** Transaction logs beside the hive (.LOG1/.LOG2, or an old-style .LOG), as bytes. */
  readonly logs?: readonly Uint8Array[];
  /** Replay the logs when the hive is dirty; without it a dirty hive is refused with AppError code HIVE_DIRTY. */
  readonly replayLogs?: boolean;
  /** The time stamped on changed keys and on the written hive, as a FILETIME; the system clock by default. */
  readonly clock?: () => bigint;
}

export interface CreateHiveOptions {
  /** As OpenHiveOptions.clock. */
  readonly clock?: () => bigint;
}

export interface HiveKey {
  readonly name: string;
  /** '\\' for the root, '\\A\\B' below it. */
  readonly path: string;
  readonly className: string | undefined;
  /** FILETIME. */
  readonly lastWritten: bigint;
  /** In hive order (sorted by upper-cased name). */
  subkeys(): HiveKey[];
  /** Case-insensitive. */
  subkey(name: string): HiveKey | undefined;
  values(): RegValue[];
  /** Case-insensitive. */
  value(name: string): RegValue | undefined;
  setValue(name: string, type: number, data: Uint8Array): void;
  deleteValue(name: string): boolean;
  /** Returns the existing one if present. */
  createSubkey(name: string): HiveKey;
}

/**
 * The minor version a new hive gets: 1.5 (hash leaves, big data). A parsed hive keeps its own
 * version (Windows' BCD and user hives are often 1.3).
 */
const NEW_HIVE_MINOR = 5;

function invalid(message: string, hint: string): AppError {
  return new AppError('INVALID_ARGUMENT', message, { hint });
}

function checkKeyName(name: string): void {
  if (name.length === 0 || name.length > MAX_KEY_NAME_CHARS || name.includes('\\')) {
    throw invalid(
      `a key name must be 1 to ${MAX_KEY_NAME_CHARS} characters without "\\", found ${JSON.stringify(name.slice(0, 300))}`,
      'give one path component; use ensureKey for a path',
    );
  }
}

function pathParts(path: string): string[] {
  return path.split('\\').filter((p) => p.length > 0);
}

class Key implements HiveKey {
  readonly #clock: () => bigint;
  readonly #node: KeyNode;

  constructor(clock: () => bigint, node: KeyNode) {
    this.#clock = clock;
    this.#node = node;
  }

  private live(): KeyNode {
    if (this.#node.deleted) {
      throw new AppError('NOT_FOUND', `registry key ${this.path} was deleted`, {
        hint: 'open the key again from the hive',
      });
    }
    return this.#node;
  }

  get name(): string {
    return this.#node.name;
  }

  get path(): string {
    const parts: string[] = [];
    for (let n = this.#node; n.parent !== undefined; n = n.parent) parts.push(n.name);
    return `\\${parts.reverse().join('\\')}`;
  }

  get className(): string | undefined {
    const c = this.#node.classBytes;
    return c === undefined ? undefined : utf16leString(c);
  }

  get lastWritten(): bigint {
    return this.#node.lastWritten;
  }

  subkeys(): HiveKey[] {
    return [...this.live().subkeys.values()]
      .sort((a, b) => compareUpper(a.upper, b.upper))
      .map((n) => new Key(this.#clock, n));
  }

  subkey(name: string): HiveKey | undefined {
    const n = this.live().subkeys.get(upcaseName(name));
    return n === undefined ? undefined : new Key(this.#clock, n);
  }

  values(): RegValue[] {
    return [...this.live().values.values()];
  }

  value(name: string): RegValue | undefined {
    return this.live().values.get(upcaseName(name));
  }

  setValue(name: string, type: number, data: Uint8Array): void {
    const node = this.live();
    if (name.length > MAX_VALUE_NAME_CHARS) {
      throw invalid(
        `a value name must be at most ${MAX_VALUE_NAME_CHARS} characters, found ${name.length}`,
        'use a shorter name',
      );
    }
    if (!Number.isInteger(type) || type < 0 || type > 0xffff_ffff) {
      throw invalid(`a value type must be an integer in [0, 2^32), found ${type}`, 'use one of REG_TYPES');
    }
    if (data.length > MAX_VALUE_SIZE) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `value data of ${data.length} bytes is more than the limit of ${MAX_VALUE_SIZE}`,
        {
          hint: 'store large data in a file instead',
        },
      );
    }
    const upper = upcaseName(name);
    const old = node.values.get(upper);
    if (old === undefined && node.values.size >= MAX_VALUES_PER_KEY) {
      throw new AppError('LIMIT_EXCEEDED', `key ${this.path} already has ${MAX_VALUES_PER_KEY} values`, {
        hint: 'spread the values over several keys',
      });
    }
    node.values.set(upper, { name: old?.name ?? name, type, data: new Uint8Array(data) });
    node.lastWritten = this.#clock();
  }

  deleteValue(name: string): boolean {
    const node = this.live();
    const deleted = node.values.delete(upcaseName(name));
    if (deleted) node.lastWritten = this.#clock();
    return deleted;
  }

  createSubkey(name: string): HiveKey {
    const node = this.live();
    const upper = upcaseName(name);
    const existing = node.subkeys.get(upper);
    if (existing) return new Key(this.#clock, existing);
    checkKeyName(name);
    let depth = 0;
    for (let n = node.parent; n !== undefined; n = n.parent) depth++;
    if (depth + 1 >= MAX_KEY_DEPTH) {
      throw new AppError('LIMIT_EXCEEDED', `keys cannot be nested deeper than ${MAX_KEY_DEPTH} levels`, {
        hint: 'use a shallower key path',
      });
    }
    if (node.subkeys.size >= MAX_SUBKEYS_PER_KEY) {
      throw new AppError('LIMIT_EXCEEDED', `key ${this.path} already has ${MAX_SUBKEYS_PER_KEY} subkeys`, {
        hint: 'spread the subkeys over several keys',
      });
    }
    const now = this.#clock();
    const child = newKeyNode(name, upper, node, now);
    node.subkeys.set(upper, child);
    node.lastWritten = now;
    return new Key(this.#clock, child);
  }
}

function markDeleted(node: KeyNode): void {
  const stack = [node];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    n.deleted = true;
    stack.push(...n.subkeys.values());
  }
}

function isDirty(bytes: Uint8Array): string | undefined {
  const primary = readU32(bytes, BB.primarySeq);
  const secondary = readU32(bytes, BB.secondarySeq);
  if (primary !== secondary)
    return `its sequence numbers differ (primary ${primary}, secondary ${secondary})`;
  const stored = readU32(bytes, BB.checksum);
  const computed = baseBlockChecksum(bytes);
  if (stored !== computed) {
    return `its base block checksum 0x${stored.toString(16)} (at offset 0x1fc) is not the computed 0x${computed.toString(16)}`;
  }
  return undefined;
}

export class Hive {
  readonly root: HiveKey;
  readonly #rootNode: KeyNode;
  readonly #header: HiveHeader;
  readonly #clock: () => bigint;

  private constructor(root: KeyNode, header: HiveHeader, clock: () => bigint) {
    this.#rootNode = root;
    this.#header = header;
    this.#clock = clock;
    this.root = new Key(this.#clock, root);
  }

  /** Reads a hive; FormatError on bad input, AppError HIVE_DIRTY for a dirty hive not replayed. */
  static parse(bytes: Uint8Array, options: OpenHiveOptions = {}): Hive {
    // A plain view: a Node Buffer's slice() shares memory, and the reader and the log replay copy.
    const input = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkBaseBlockSignature(input);
    let clean = input;
    const dirty = isDirty(input);
    if (dirty !== undefined) {
      const logs = options.logs ?? [];
      if (logs.length === 0) {
        throw new AppError(
          'HIVE_DIRTY',
          `hive is dirty: ${dirty}, and no transaction logs (.LOG1/.LOG2 or .LOG) were given to recover it`,
          { hint: "put the hive's .LOG1/.LOG2 (or .LOG) files beside it and pass --replay-logs" },
        );
      }
      if (options.replayLogs !== true) {
        throw new AppError(
          'HIVE_DIRTY',
          `hive is dirty: its transaction log has changes not applied (${dirty}) — pass --replay-logs`,
          { hint: 'pass --replay-logs to apply the transaction logs before reading' },
        );
      }
      clean = recoverHive(input, logs);
    }
    const parsed = readHiveTree(clean);
    return new Hive(parsed.root, parsed.header, options.clock ?? filetimeNow);
  }

  /** A new empty hive (version 1.5) whose root key is named `rootName`. */
  static create(rootName: string, options: CreateHiveOptions = {}): Hive {
    checkKeyName(rootName);
    const clock = options.clock ?? filetimeNow;
    const root = newKeyNode(rootName, upcaseName(rootName), undefined, clock());
    root.security = { descriptor: defaultSecurityDescriptor() };
    return new Hive(root, { minor: NEW_HIVE_MINOR, sequence: 1, fileName: new Uint8Array(64) }, clock);
  }

  private findNode(path: string): KeyNode | undefined {
    let node: KeyNode | undefined = this.#rootNode;
    for (const part of pathParts(path)) {
      node = node.subkeys.get(upcaseName(part));
      if (node === undefined) return undefined;
    }
    return node;
  }

  /** Path relative to the root, '\\'-separated, leading '\\' optional, case-insensitive; '' or '\\' is the root. */
  getKey(path: string): HiveKey | undefined {
    const node = this.findNode(path);
    return node === undefined ? undefined : new Key(this.#clock, node);
  }

  /** Creates the missing keys along the path. */
  ensureKey(path: string): HiveKey {
    let key = this.root;
    for (const part of pathParts(path)) key = key.createSubkey(part);
    return key;
  }

  /** Recursive; false when absent; the root cannot be deleted. */
  deleteKey(path: string): boolean {
    const node = this.findNode(path);
    if (node === undefined) return false;
    const parent = node.parent;
    if (parent === undefined) {
      throw invalid('the root key of a hive cannot be deleted', 'delete its subkeys instead');
    }
    parent.subkeys.delete(node.upper);
    parent.lastWritten = this.#clock();
    markDeleted(node);
    return true;
  }

  /** A valid, clean hive. */
  serialize(): Uint8Array {
    return writeHiveTree(this.#rootNode, {
      header: this.#header,
      timestamp: this.#clock(),
      defaultSecurity: { descriptor: defaultSecurityDescriptor() },
    });
  }
}
