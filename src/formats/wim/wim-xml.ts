// The XML data resource of a WIM: UTF-16LE text with a byte-order mark, one <IMAGE INDEX="n"> per
// image. Element names as wimlib writes and reads them (wimlib: src/xml.c, doc/man1/wiminfo.1
// "--image-property"), which are those of Microsoft's WIMGAPI/DISM: <NAME>, <DESCRIPTION>,
// <DIRCOUNT>, <FILECOUNT>, <TOTALBYTES>, <WINDOWS><ARCH/><EDITIONID/><INSTALLATIONTYPE/>
// <LANGUAGES><LANGUAGE/>…</LANGUAGES><VERSION><MAJOR/><MINOR/><BUILD/><SPBUILD/></VERSION></WINDOWS>.
// <ARCH> holds a PROCESSOR_ARCHITECTURE_* value of the Windows SDK (winnt.h): 0 x86, 9 AMD64, 12 ARM64.

import { XMLParser } from 'fast-xml-parser';
import { FormatError } from '../../core/errors.ts';

/**
 * Largest XML resource read. Microsoft's install.wim files carry a few KiB per image; the limit keeps
 * a corrupt size field from making a reader allocate gigabytes.
 */
export const MAX_WIM_XML_BYTES = 16 * 1024 * 1024;

export type WimArch = 'amd64' | 'x86' | 'arm64';

/** One <IMAGE> element, typed. A field is null when its element is absent. */
export interface WimXmlImage {
  index: number;
  name: string | null;
  description: string | null;
  editionId: string | null;
  installationType: string | null;
  /** MAJOR.MINOR.BUILD.SPBUILD (SPBUILD 0 when only it is absent). */
  build: string | null;
  arch: WimArch | null;
  languages: string[];
  totalBytes: number | null;
  fileCount: number | null;
  dirCount: number | null;
}

export interface WimXml {
  /** <WIM><TOTALBYTES>: the size of the WIM file as its writer recorded it. */
  readonly totalBytes: number | null;
  readonly images: WimXmlImage[];
}

const PROCESSOR_ARCHITECTURE: Readonly<Record<string, WimArch>> = {
  '0': 'x86',
  '9': 'amd64',
  '12': 'arm64',
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  htmlEntities: false,
  isArray: (_name, jpath) => jpath === 'WIM.IMAGE' || jpath === 'WIM.IMAGE.WINDOWS.LANGUAGES.LANGUAGE',
});

type Node = Readonly<Record<string, unknown>>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first occurrence of an element (wimlib also takes the first of duplicates). */
function child(node: Node | undefined, name: string): unknown {
  const value = node?.[name];
  return Array.isArray(value) ? (value as unknown[])[0] : value;
}

function childNode(node: Node | undefined, name: string): Node | undefined {
  const value = child(node, name);
  return isNode(value) ? value : undefined;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (isNode(value)) {
    const inner = value['#text'];
    return typeof inner === 'string' ? inner : '';
  }
  return null;
}

function textOf(node: Node | undefined, name: string): string | null {
  return text(child(node, name));
}

function numberOf(node: Node | undefined, name: string, where: string): number | null {
  const value = textOf(node, name);
  if (value === null) return null;
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new FormatError(`${where} <${name}> should be a decimal number, found "${value.slice(0, 40)}"`);
  }
  return Number(value);
}

/** UTF-16LE with an optional byte-order mark (wimlib writes one, as Microsoft does). */
export function decodeWimXmlText(bytes: Uint8Array): string {
  if (bytes.byteLength % 2 !== 0) {
    throw new FormatError(`WIM XML is UTF-16LE, so an even number of bytes; found ${bytes.byteLength}`, {
      offset: bytes.byteLength - 1,
    });
  }
  const hasBom = bytes[0] === 0xff && bytes[1] === 0xfe;
  try {
    return new TextDecoder('utf-16le', { fatal: true }).decode(hasBom ? bytes.subarray(2) : bytes);
  } catch (cause) {
    throw new FormatError('WIM XML is not valid UTF-16LE text', { cause });
  }
}

function parseImage(node: Node, position: number): WimXmlImage {
  const where = `image ${position}`;
  const rawIndex = text(node['@INDEX']);
  if (rawIndex === null || !/^\d{1,9}$/.test(rawIndex)) {
    throw new FormatError(
      `${where}: <IMAGE> should have a decimal INDEX attribute, found ${rawIndex ?? 'none'}`,
    );
  }
  const windows = childNode(node, 'WINDOWS');
  const version = childNode(windows, 'VERSION');
  const major = numberOf(version, 'MAJOR', where);
  const minor = numberOf(version, 'MINOR', where);
  const build = numberOf(version, 'BUILD', where);
  const spBuild = numberOf(version, 'SPBUILD', where) ?? 0;
  const arch = textOf(windows, 'ARCH');
  const languages = childNode(windows, 'LANGUAGES')?.LANGUAGE;
  return {
    index: Number(rawIndex),
    name: textOf(node, 'NAME'),
    description: textOf(node, 'DESCRIPTION'),
    editionId: textOf(windows, 'EDITIONID'),
    installationType: textOf(windows, 'INSTALLATIONTYPE'),
    build:
      major === null || minor === null || build === null ? null : `${major}.${minor}.${build}.${spBuild}`,
    arch: arch === null ? null : (PROCESSOR_ARCHITECTURE[arch] ?? null),
    languages: Array.isArray(languages)
      ? (languages as unknown[]).map(text).filter((l): l is string => l !== null && l !== '')
      : [],
    totalBytes: numberOf(node, 'TOTALBYTES', where),
    fileCount: numberOf(node, 'FILECOUNT', where),
    dirCount: numberOf(node, 'DIRCOUNT', where),
  };
}

/** Parses the XML resource's bytes into its images, ordered by index (1..n, each once). */
export function parseWimXml(bytes: Uint8Array): WimXml {
  if (bytes.byteLength > MAX_WIM_XML_BYTES) {
    throw new FormatError(`WIM XML of ${bytes.byteLength} bytes is over the limit of ${MAX_WIM_XML_BYTES}`, {
      code: 'LIMIT_EXCEEDED',
    });
  }
  const source = decodeWimXmlText(bytes);
  let document: unknown;
  try {
    document = parser.parse(source);
  } catch (cause) {
    throw new FormatError(`WIM XML is not well-formed: ${(cause as Error).message}`, { cause });
  }
  const rootValue = isNode(document) ? child(document, 'WIM') : undefined;
  if (rootValue === undefined) throw new FormatError('WIM XML has no <WIM> root element');
  const root: Node = isNode(rootValue) ? rootValue : {};
  const rawImages = root.IMAGE;
  const images = (Array.isArray(rawImages) ? (rawImages as unknown[]) : [])
    .map((node, i) => {
      if (!isNode(node)) throw new FormatError(`image ${i + 1}: <IMAGE> has no content`);
      return parseImage(node, i + 1);
    })
    .sort((a, b) => a.index - b.index);
  images.forEach((image, i) => {
    if (image.index !== i + 1) {
      throw new FormatError(
        `WIM XML image indexes should run 1 to ${images.length}, each once; found ${images.map((m) => m.index).join(', ')}`,
      );
    }
  });
  return { totalBytes: numberOf(root, 'TOTALBYTES', 'WIM'), images };
}
