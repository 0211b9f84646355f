// A small ordered XML tree for answer files: elements with ordered attributes, text and comments,
// each element with the line its start tag is on. Parsed with fast-xml-parser (XML 1.0, W3C
// REC-xml-20081126: well-formedness checked by its XMLValidator first); rendered by hand, two spaces
// an indent level, a leaf's text on the element's line, so that render → parse → render is the same
// text. Namespace prefixes are kept as written (`wcm:action`); no namespace processing.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { errorText, FormatError } from '../../core/errors.ts';

export interface XmlElement {
  readonly kind: 'element';
  readonly name: string;
  readonly attributes: readonly (readonly [string, string])[];
  readonly children: readonly XmlNode[];
  /** 1-based line of the start tag in the parsed text; undefined for built elements. */
  readonly line?: number;
}

export interface XmlText {
  readonly kind: 'text';
  readonly text: string;
}

export interface XmlComment {
  readonly kind: 'comment';
  readonly text: string;
}

export type XmlNode = XmlElement | XmlText | XmlComment;

/** Answer files are a few KiB; a 16 MiB one is not an answer file. */
export const MAX_XML_BYTES = 16 * 1024 * 1024;

/** Builds an element; `content` is a text value or child nodes. */
export function el(
  name: string,
  content: string | number | boolean | readonly XmlNode[] = [],
  attributes: readonly (readonly [string, string])[] = [],
): XmlElement {
  const children: readonly XmlNode[] =
    typeof content === 'object' ? content : [{ kind: 'text', text: String(content) }];
  return { kind: 'element', name, attributes, children };
}

export function childElements(e: XmlElement): XmlElement[] {
  return e.children.filter((c): c is XmlElement => c.kind === 'element');
}

export function childElement(e: XmlElement, name: string): XmlElement | undefined {
  return childElements(e).find((c) => c.name === name);
}

/** The text of an element (its text children joined), or undefined when it has child elements. */
export function textOf(e: XmlElement | undefined): string | undefined {
  if (e === undefined || e.children.some((c) => c.kind === 'element')) return undefined;
  return e.children.map((c) => (c.kind === 'text' ? c.text : '')).join('');
}

export function attributeOf(e: XmlElement, name: string): string | undefined {
  return e.attributes.find(([k]) => k === name)?.[1];
}

/** Decodes the bytes of an XML file: UTF-16LE with its BOM, else UTF-8 (BOM optional). */
export function decodeXml(input: Uint8Array | string): string {
  if (typeof input === 'string') return input.startsWith('\ufeff') ? input.slice(1) : input;
  if (input.length > MAX_XML_BYTES)
    throw new FormatError(`XML of ${input.length} bytes is over the limit of ${MAX_XML_BYTES} bytes`, {
      code: 'LIMIT_EXCEEDED',
      offset: MAX_XML_BYTES,
    });
  if (input[0] === 0xff && input[1] === 0xfe) return new TextDecoder('utf-16le').decode(input.subarray(2));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(input);
  } catch {
    throw new FormatError(
      'expected UTF-8 or UTF-16LE (with its byte order mark) text, found bytes that are neither',
      {
        offset: 0,
      },
    );
  }
}

/** The line and message of the first well-formedness error, or undefined when there is none. */
export function xmlWellFormedError(text: string): { line: number; message: string } | undefined {
  // fast-xml-parser 5 marks its validator deprecated in favour of a separate package; it is the one
  // installed, and the one the project names for well-formedness.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const result = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (result === true) return undefined;
  return { line: result.err.line, message: result.err.msg };
}

/** Lines of the start tags of `text`, in document order (the order of a pre-order walk). */
function startTagLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  const advanceTo = (end: number): void => {
    for (let j = i; j < end; j++) if (text.charCodeAt(j) === 10) line++;
    i = end;
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    advanceTo(lt);
    const skip = (open: string, close: string): boolean => {
      if (!text.startsWith(open, i)) return false;
      const end = text.indexOf(close, i + open.length);
      advanceTo(end < 0 ? text.length : end + close.length);
      return true;
    };
    if (
      skip('<!--', '-->') ||
      skip('<![CDATA[', ']]>') ||
      skip('<?', '?>') ||
      skip('<!', '>') ||
      skip('</', '>')
    )
      continue;
    lines.push(line);
    // Skip the tag itself, minding quoted attribute values that may hold '>'.
    let j = i + 1;
    let quote = '';
    while (j < text.length) {
      const c = text.charAt(j);
      if (quote !== '') {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
      j++;
    }
    advanceTo(Math.min(j + 1, text.length));
  }
  return lines;
}

type FxpNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  commentPropName: '#comment',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  htmlEntities: true,
});

function convert(nodes: readonly FxpNode[], lines: number[], cursor: { next: number }): XmlNode[] {
  const out: XmlNode[] = [];
  for (const node of nodes) {
    if ('#text' in node) {
      const text = typeof node['#text'] === 'string' ? node['#text'] : String(node['#text']);
      if (text.trim() !== '') out.push({ kind: 'text', text });
      continue;
    }
    if ('#comment' in node) {
      const parts = node['#comment'] as FxpNode[];
      out.push({
        kind: 'comment',
        text: parts.map((p) => (typeof p['#text'] === 'string' ? p['#text'] : '')).join(''),
      });
      continue;
    }
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined) continue;
    const attrs = (node[':@'] ?? {}) as Record<string, unknown>;
    const line = lines[cursor.next++];
    const children = convert(node[name] as FxpNode[], lines, cursor);
    out.push({
      kind: 'element',
      name,
      attributes: Object.entries(attrs).map(([k, v]): [string, string] => [k, String(v)]),
      children: keepLeafWhitespace(children, node[name] as FxpNode[]),
      ...(line === undefined ? {} : { line }),
    });
  }
  return out;
}

/** A leaf whose only text is whitespace keeps it (a value of spaces is a value). */
function keepLeafWhitespace(children: XmlNode[], raw: readonly FxpNode[]): XmlNode[] {
  if (children.length > 0 || raw.length !== 1) return children;
  const only = raw[0];
  return only !== undefined && typeof only['#text'] === 'string'
    ? [{ kind: 'text', text: only['#text'] }]
    : children;
}

/** Parses XML text into its top-level nodes (comments and the root element). Throws FormatError. */
export function parseXml(text: string): XmlNode[] {
  // Answer files have no document type; one could declare entities that expand without end.
  const doctype = /<!DOCTYPE/i.exec(text);
  if (doctype !== null)
    throw new FormatError(
      `line ${text.slice(0, doctype.index).split('\n').length}: expected no <!DOCTYPE> in an answer file, found one`,
      { code: 'FORMAT_UNSUPPORTED', offset: doctype.index },
    );
  const bad = xmlWellFormedError(text);
  if (bad !== undefined) throw new FormatError(`line ${bad.line}: XML is not well-formed: ${bad.message}`);
  let parsed: FxpNode[];
  try {
    parsed = parser.parse(text) as FxpNode[];
  } catch (e) {
    throw new FormatError(`XML could not be read: ${errorText(e)}`, {
      cause: e,
    });
  }
  return convert(parsed, startTagLines(text), { next: 0 });
}

/** Whether XML 1.0 (§2.2 Char) can hold the UTF-16 code unit `c`, even as a reference. */
function isXmlCodeUnit(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c !== 0xfffe && c !== 0xffff);
}

function checkChars(text: string): void {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isXmlCodeUnit(code))
      throw new FormatError(
        `XML 1.0 cannot hold the character U+${code.toString(16).padStart(4, '0')}, found in "${text.slice(0, 40)}"`,
        { code: 'FORMAT_UNSUPPORTED' },
      );
  }
  if (!text.isWellFormed())
    throw new FormatError(`XML 1.0 cannot hold a lone UTF-16 surrogate, found in "${text.slice(0, 40)}"`, {
      code: 'FORMAT_UNSUPPORTED',
    });
}

function escapeText(text: string): string {
  checkChars(text);
  // A raw CR would be read back as LF (XML 1.0 §2.11): written as a reference it stays a CR.
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('\r', '&#13;');
}

function escapeAttribute(text: string): string {
  return escapeText(text)
    .replaceAll('"', '&quot;')
    .replaceAll('\n', '&#10;')
    .replaceAll('\r', '&#13;')
    .replaceAll('\t', '&#9;');
}

function renderComment(text: string): string {
  // "--" may not appear inside a comment (XML 1.0 §2.5).
  return `<!--${text.replaceAll('--', '- -').replace(/-$/, '- ')}-->`;
}

function renderNode(node: XmlNode, indent: string, out: string[]): void {
  if (node.kind === 'comment') {
    out.push(`${indent}${renderComment(node.text)}`);
    return;
  }
  if (node.kind === 'text') {
    out.push(`${indent}${escapeText(node.text)}`);
    return;
  }
  const attrs = node.attributes.map(([k, v]) => ` ${k}="${escapeAttribute(v)}"`).join('');
  // An empty text is no content: <A></A> and <A /> read back the same.
  const children = node.children.filter((c) => c.kind !== 'text' || c.text !== '');
  if (children.length === 0) {
    out.push(`${indent}<${node.name}${attrs} />`);
    return;
  }
  const hasText = children.some((c) => c.kind === 'text');
  if (hasText) {
    // Leaf or mixed content: on one line, as written, so that no whitespace is added to the text.
    const inner: string[] = [];
    for (const c of children) renderNode(c, '', inner);
    out.push(`${indent}<${node.name}${attrs}>${inner.join('')}</${node.name}>`);
    return;
  }
  out.push(`${indent}<${node.name}${attrs}>`);
  for (const c of children) renderNode(c, `${indent}  `, out);
  out.push(`${indent}</${node.name}>`);
}

/** UTF-8 text of a document: the XML declaration, then the nodes, one element a line, LF ends. */
export function renderXml(nodes: readonly XmlNode[]): string {
  const out = ['<?xml version="1.0" encoding="utf-8"?>'];
  for (const n of nodes) renderNode(n, '', out);
  return `${out.join('\n')}\n`;
}
