// YAML input files (recipes, unattend profiles) read with the positions of their nodes, so every
// error names FILE:LINE:COLUMN and says what was expected there. YAML 1.2 through the `yaml`
// package's document API (its nodes keep their source ranges; LineCounter turns offsets into
// line and column). Pure: the caller reads the file and passes its text.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { AppError } from '../core/errors.ts';

/** A parsed YAML file: its root node and a way to point at any node of it. */
export class YamlInput {
  readonly file: string;
  readonly root: Node | null;
  readonly #lines: LineCounter;

  private constructor(file: string, root: Node | null, lines: LineCounter) {
    this.file = file;
    this.root = root;
    this.#lines = lines;
  }

  /** Parses `text`; a syntax error is an AppError naming file, line and column. */
  static parse(text: string, file: string): YamlInput {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const [first] = doc.errors;
    if (first !== undefined) {
      const { line, col } = lines.linePos(first.pos[0]);
      throw new AppError('FORMAT_INVALID', `${file}:${line}:${col}: ${first.message.split('\n')[0] ?? ''}`, {
        hint: 'fix the YAML syntax at the place named',
      });
    }
    return new YamlInput(file, doc.contents, lines);
  }

  /** 'FILE:LINE:COLUMN' of a node (of the file's start without one). */
  where(node: Node | null | undefined): string {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.#lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** An AppError whose message starts with the node's place. */
  error(node: Node | null | undefined, message: string, hint: string): AppError {
    return new AppError('FORMAT_INVALID', `${this.where(node)}: ${message}`, { hint });
  }

  /** The entries of a mapping, keys as strings, in file order; anything else is an error. */
  map(node: Node | null, what: string): YamlEntry[] {
    if (!isMap(node))
      throw this.error(
        node,
        `${what} must be a mapping (key: value), found ${kindOf(node)}`,
        `write ${what} as key: value lines or { key: value }`,
      );
    return node.items.map((pair) => {
      const key = pair.key as Node | null;
      if (!isScalar(key) || typeof key.value !== 'string') {
        throw this.error(
          key,
          `a key of ${what} must be a plain name, found ${kindOf(key)}`,
          'use names as keys',
        );
      }
      return { key: key.value, keyNode: key, value: (pair.value ?? null) as Node | null };
    });
  }

  /** The entries of a mapping whose keys must all be in `allowed` (unknown ones name the expected). */
  mapOf(node: Node | null, what: string, allowed: readonly string[]): YamlEntry[] {
    const entries = this.map(node, what);
    for (const e of entries) {
      if (!allowed.includes(e.key)) {
        throw this.error(
          e.keyNode,
          `unknown key '${e.key}' in ${what} — expected one of ${allowed.join(', ')}`,
          `check the spelling of '${e.key}'`,
        );
      }
    }
    return entries;
  }

  /** The items of a sequence; with `single`, one non-sequence value counts as a one-item list. */
  seq(node: Node | null, what: string, single = false): (Node | null)[] {
    if (isSeq(node)) return node.items as (Node | null)[];
    if (single && node !== null && !isMap(node)) return [node];
    throw this.error(
      node,
      `${what} must be a list, found ${kindOf(node)}`,
      `write ${what} as - item lines or [ a, b ]`,
    );
  }

  string(node: Node | null, what: string): string {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) {
      return String(node.value);
    }
    throw this.error(node, `${what} must be a string, found ${kindOf(node)}`, `give ${what} as text`);
  }

  /** Any scalar's value (string, number, boolean, bigint). */
  scalar(node: Node | null, what: string): string | number | boolean | bigint {
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
        return v;
    }
    throw this.error(
      node,
      `${what} must be a single value, found ${kindOf(node)}`,
      `give ${what} as one value`,
    );
  }

  boolean(node: Node | null, what: string): boolean {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    throw this.error(
      node,
      `${what} must be true or false, found ${kindOf(node)}`,
      `write ${what}: true or false`,
    );
  }

  /** The node as plain data (mappings become objects, sequences arrays). */
  plain(node: Node | null): unknown {
    return node === null ? null : node.toJSON();
  }
}

export interface YamlEntry {
  readonly key: string;
  readonly keyNode: Node;
  readonly value: Node | null;
}

/** How a node is described in "found …". */
export function kindOf(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'nothing';
    if (typeof v === 'string') return `the text ${JSON.stringify(v)}`;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
      return `${typeof v} ${String(v)}`;
    return 'a value';
  }
  return 'an alias';
}
