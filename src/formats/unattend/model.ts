// The answer file (unattend.xml) of Windows Setup, as Microsoft's "Unattended Windows Setup
// Reference" (learn.microsoft.com/windows-hardware/customize/desktop/unattend/) and "Windows Setup
// Configuration Passes" describe it: an <unattend xmlns="urn:schemas-microsoft-com:unattend"> root,
// one <settings pass="..."> per configuration pass, and in each the <component> elements named by
// their manifest identity (name, processorArchitecture, publicKeyToken, language, versionScope) with
// the wcm (http://schemas.microsoft.com/WMIConfig/2002/State) and xsi namespaces declared. The
// settings of a component are kept as XML trees, so a file read and written again loses nothing:
// settings winsmith has no table for, other children of <unattend> (cpi:offlineImage) and comments.

import { FormatError } from '../../core/errors.ts';
import {
  attributeOf,
  childElements,
  decodeXml,
  el,
  parseXml,
  renderXml,
  type XmlElement,
  type XmlNode,
} from './xml.ts';

export const UNATTEND_NS = 'urn:schemas-microsoft-com:unattend';
export const WCM_NS = 'http://schemas.microsoft.com/WMIConfig/2002/State';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
/** The public key token of every Microsoft component. */
export const MICROSOFT_PUBLIC_KEY_TOKEN = '31bf3856ad364e35';

/** The seven configuration passes, in the order Windows runs them. */
export const UNATTEND_PASSES = [
  'windowsPE',
  'offlineServicing',
  'generalize',
  'specialize',
  'auditSystem',
  'auditUser',
  'oobeSystem',
] as const;
export type UnattendPass = (typeof UNATTEND_PASSES)[number];

/** processorArchitecture values: a component whose value differs from the image's is skipped. */
export const UNATTEND_ARCHES = ['amd64', 'x86', 'arm64', 'wow64'] as const;
export type UnattendArch = (typeof UNATTEND_ARCHES)[number];

export function isUnattendPass(text: string): text is UnattendPass {
  return (UNATTEND_PASSES as readonly string[]).includes(text);
}

export interface UnattendComponent {
  readonly name: string;
  readonly processorArchitecture: string;
  readonly publicKeyToken: string;
  readonly language: string;
  readonly versionScope: string;
  /** Other attributes (namespace declarations), in order. */
  readonly extraAttributes: readonly (readonly [string, string])[];
  /** The component's settings and comments, in order. */
  readonly settings: readonly XmlNode[];
  readonly line?: number;
}

export interface UnattendSettings {
  /** As written; lint reports a pass that is not one of UNATTEND_PASSES. */
  readonly pass: string;
  readonly components: readonly UnattendComponent[];
  /** Children of <settings> other than components (kept, rendered after the components). */
  readonly other: readonly XmlNode[];
  readonly line?: number;
}

export interface Unattend {
  readonly settings: readonly UnattendSettings[];
  /** Children of <unattend> other than <settings> (cpi:offlineImage, comments), kept after them. */
  readonly other: readonly XmlNode[];
  /** Comments before the root element. */
  readonly leading: readonly XmlNode[];
}

const COMPONENT_IDENTITY = [
  'name',
  'processorArchitecture',
  'publicKeyToken',
  'language',
  'versionScope',
] as const;

/** A Microsoft component with the identity Windows expects and the wcm/xsi namespaces declared. */
export function newComponent(
  name: string,
  arch: UnattendArch,
  settings: readonly XmlNode[],
): UnattendComponent {
  return {
    name,
    processorArchitecture: arch,
    publicKeyToken: MICROSOFT_PUBLIC_KEY_TOKEN,
    language: 'neutral',
    versionScope: 'nonSxS',
    extraAttributes: [
      ['xmlns:wcm', WCM_NS],
      ['xmlns:xsi', XSI_NS],
    ],
    settings,
  };
}

function readComponent(e: XmlElement): UnattendComponent {
  const get = (k: string): string => attributeOf(e, k) ?? '';
  return {
    name: get('name'),
    processorArchitecture: get('processorArchitecture'),
    publicKeyToken: get('publicKeyToken'),
    language: get('language'),
    versionScope: get('versionScope'),
    extraAttributes: e.attributes.filter(([k]) => !(COMPONENT_IDENTITY as readonly string[]).includes(k)),
    settings: e.children,
    ...(e.line === undefined ? {} : { line: e.line }),
  };
}

/** Parses an answer file (UTF-8, or UTF-16LE with its BOM). Throws only FormatError. */
export function parseUnattend(input: Uint8Array | string): Unattend {
  const nodes = parseXml(decodeXml(input));
  const rootIndex = nodes.findIndex((n) => n.kind === 'element');
  const root = nodes[rootIndex];
  if (root?.kind !== 'element') throw new FormatError('expected an <unattend> root element, found none');
  if (root.name !== 'unattend')
    throw new FormatError(
      `line ${root.line ?? 1}: expected the root element <unattend>, found <${root.name}>`,
    );
  const ns = attributeOf(root, 'xmlns');
  if (ns !== UNATTEND_NS)
    throw new FormatError(
      `line ${root.line ?? 1}: expected <unattend xmlns="${UNATTEND_NS}">, found xmlns ${ns === undefined ? 'missing' : `"${ns}"`}`,
    );
  const settings: UnattendSettings[] = [];
  const other: XmlNode[] = [];
  for (const c of root.children) {
    if (c.kind !== 'element' || c.name !== 'settings') {
      other.push(c);
      continue;
    }
    const components: UnattendComponent[] = [];
    const rest: XmlNode[] = [];
    for (const s of c.children) {
      if (s.kind === 'element' && s.name === 'component') components.push(readComponent(s));
      else rest.push(s);
    }
    settings.push({
      pass: attributeOf(c, 'pass') ?? '',
      components,
      other: rest,
      ...(c.line === undefined ? {} : { line: c.line }),
    });
  }
  return { settings, other, leading: nodes.slice(0, rootIndex).filter((n) => n.kind === 'comment') };
}

function componentElement(c: UnattendComponent): XmlElement {
  return el('component', c.settings, [
    ['name', c.name],
    ['processorArchitecture', c.processorArchitecture],
    ['publicKeyToken', c.publicKeyToken],
    ['language', c.language],
    ['versionScope', c.versionScope],
    ...c.extraAttributes,
  ]);
}

/** The answer file as UTF-8 text with the XML declaration, two-space indented, LF line ends. */
export function renderUnattend(u: Unattend): string {
  const root = el(
    'unattend',
    [
      ...u.settings.map((s) =>
        el('settings', [...s.components.map(componentElement), ...s.other], [['pass', s.pass]]),
      ),
      ...u.other,
    ],
    [['xmlns', UNATTEND_NS]],
  );
  return renderXml([...u.leading, root]);
}

/** An empty answer file. */
export function emptyUnattend(): Unattend {
  return { settings: [], other: [], leading: [] };
}

/** The top-level setting elements of a component. */
export function settingElements(c: UnattendComponent): XmlElement[] {
  return childElements(el('x', c.settings));
}

/** The components named `name` in `pass` (any architecture). */
export function findComponents(u: Unattend, pass: string, name: string): UnattendComponent[] {
  return u.settings
    .filter((s) => s.pass === pass)
    .flatMap((s) => s.components.filter((c) => c.name === name));
}
