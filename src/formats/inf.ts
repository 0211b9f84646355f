// Setup information (INF) files of Windows driver packages, read as Microsoft documents them in
// "INF File Sections and Directives" (learn.microsoft.com/windows-hardware/drivers/install/):
// - "General Syntax Rules for INF Files": case-insensitive section names, keys and directives;
//   sections of the same name merged; section names at most 255 characters; `;` comments; a `\`
//   as the last character of a line continues it; `"..."` quoted strings with `""` for a quote;
//   `%strkey%` tokens replaced from [Strings], `%%` for a percent sign.
// - "INF Strings Section": [Strings] and the localized [Strings.LanguageID] sections (LanguageID in
//   hexadecimal, e.g. 0409); the localized section of the system language wins over [Strings].
// - "INF Version Section" (Signature, Class, ClassGuid, Provider, CatalogFile, DriverVer) and
//   "INF DriverVer Directive" (mm/dd/yyyy[,w.x.y.z]).
// - "INF Manufacturer Section" (manufacturer = models-section[,TargetOSVersion,...], with
//   TargetOSVersion = NT[Architecture][.[OSMajorVersion][.[OSMinorVersion][.[ProductType]
//   [.[SuiteMask][.[BuildNumber]]]]]]) and "INF Models Section"
//   (device-description = install-section[,hw-id][,compatible-id...]).
// - "INF DDInstall Section" (decorated with .NTamd64 / .NT, Windows using the most specific one
//   present), "INF DDInstall.Services Section" and "INF AddService Directive"
//   (AddService = ServiceName,[flags],service-install-section[,event-log-install-section...] and the
//   service-install-section's ServiceType, StartType, ErrorControl, ServiceBinary, LoadOrderGroup).
// - "INF CopyFiles Directive", "INF DestinationDirs Section", "INF SourceDisksNames Section" and
//   "INF SourceDisksFiles Section" (with their .x86/.amd64/.arm64 platform decorations).
//
// The text is UTF-16LE when it starts with the FF FE byte order mark (Unicode INFs), UTF-8 with
// EF BB BF, and otherwise UTF-8 when it decodes as such or Windows-1252 (an "ANSI" INF) when not.
// Offsets in FormatErrors count characters of the decoded text; messages name the line.

import { FormatError } from '../core/errors.ts';

/** The biggest real driver INFs (graphics drivers) are a few MiB; a 64 MiB INF is not an INF. */
export const MAX_INF_BYTES = 64 * 1024 * 1024;
/** "General Syntax Rules for INF Files": a section name is at most 255 characters. */
export const MAX_SECTION_NAME = 255;
/** One field after %strkey% substitution: Windows' own string limit is 4096 characters; past 64 Ki
 * characters the input is built to blow up substitution (one short token naming a long string). */
export const MAX_FIELD_CHARS = 65536;

/** One line of a section: `key = v1, v2` or, without `=`, only values. */
export interface InfLine {
  /** 1-based line number of the line's first physical line. */
  readonly line: number;
  /** The key with quotes removed and %strkey% replaced; undefined when the line has no `=`. */
  readonly key: string | undefined;
  /** The key as written (quotes removed, tokens left), e.g. `%VENDOR%`. */
  readonly rawKey: string | undefined;
  /** The fields after `=` (or the whole line), quotes removed and %strkey% replaced. */
  readonly values: readonly string[];
  /** The fields as written (quotes removed, tokens left). */
  readonly rawValues: readonly string[];
}

export interface InfSection {
  /** The name as first written. */
  readonly name: string;
  readonly lines: readonly InfLine[];
}

export interface InfDocument {
  /** Sections by lower-cased name, in the order they first appear. */
  readonly sections: ReadonlyMap<string, InfSection>;
  /** The string table used for substitution (lower-cased keys), after localization. */
  readonly strings: ReadonlyMap<string, string>;
  readonly encoding: 'utf-16le' | 'utf-8' | 'windows-1252';
}

export interface ParseInfOptions {
  /** The system's language as a hexadecimal LANGID (e.g. `0409`, `040c`): its [Strings.LANGID]
   * section is used first. Default `0409`. */
  readonly language?: string;
}

interface RawLine {
  readonly line: number;
  readonly offset: number;
  readonly key: string | undefined;
  readonly values: readonly string[];
}

function decodeInf(bytes: Uint8Array): { text: string; encoding: InfDocument['encoding'] } {
  if (bytes.length > MAX_INF_BYTES)
    throw new FormatError(`INF of ${bytes.length} bytes is over the limit of ${MAX_INF_BYTES} bytes`, {
      code: 'LIMIT_EXCEEDED',
      offset: MAX_INF_BYTES,
    });
  if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    throw new FormatError('INF is UTF-16 big-endian (byte order mark FE FF); Windows reads UTF-16LE only', {
      code: 'FORMAT_UNSUPPORTED',
      offset: 0,
    });
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'windows-1252' };
  }
}

/** Splits one logical line into key and fields. Returns undefined for a blank or comment line. */
function tokenizeLine(
  text: string,
  line: number,
  offset: number,
): { key: string | undefined; values: string[] } | undefined {
  const fields: string[] = [];
  let key: string | undefined;
  let field = '';
  let trailingSpace = 0; // unquoted whitespace at the end of `field`, cut when the field ends
  let sawContent = false;
  let sawComma = false;
  let i = 0;
  const endField = (): void => {
    fields.push(field.slice(0, field.length - trailingSpace));
    field = '';
    trailingSpace = 0;
  };
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"') {
      sawContent = true;
      i++;
      for (;;) {
        if (i >= text.length)
          throw new FormatError(`line ${line}: expected a closing " before the end of the line`, {
            offset: offset + i,
          });
        const q = text.charAt(i);
        if (q === '"') {
          if (text.charAt(i + 1) === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += q;
        i++;
      }
      trailingSpace = 0;
      continue;
    }
    if (c === ';') break;
    if (c === ',') {
      sawContent = true;
      sawComma = true;
      endField();
      i++;
      continue;
    }
    if (c === '=' && key === undefined && !sawComma) {
      sawContent = true;
      key = field.slice(0, field.length - trailingSpace);
      field = '';
      trailingSpace = 0;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (field.length > 0) {
        field += c;
        trailingSpace++;
      }
      i++;
      continue;
    }
    sawContent = true;
    field += c;
    trailingSpace = 0;
    i++;
  }
  if (!sawContent) return undefined;
  endField();
  return { key, values: fields };
}

/** Where an unquoted `;` starts a comment in `text`, or its length. */
function commentStart(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) return i;
  }
  return text.length;
}

function splitSections(text: string): { name: string; line: number; lines: RawLine[] }[] {
  const physical: string[] = [];
  const starts: number[] = [];
  const lineBreak = /\r\n|\r|\n/g;
  let from = 0;
  for (let m = lineBreak.exec(text); m !== null; m = lineBreak.exec(text)) {
    physical.push(text.slice(from, m.index));
    starts.push(from);
    from = m.index + m[0].length;
  }
  physical.push(text.slice(from));
  starts.push(from);
  const sections: { name: string; line: number; lines: RawLine[] }[] = [];
  let current: { name: string; line: number; lines: RawLine[] } | undefined;
  for (let n = 0; n < physical.length; n++) {
    const startLine = n + 1;
    const startOffset = starts[n] ?? 0;
    // A `\` as the last character before any comment joins the next physical line (each physical
    // line is looked at once: joining stays linear however many lines continue).
    const parts: string[] = [];
    let line = physical[n] ?? '';
    for (;;) {
      const body = line.slice(0, commentStart(line)).trimEnd();
      if (!body.endsWith('\\') || n + 1 >= physical.length) {
        parts.push(line);
        break;
      }
      parts.push(body.slice(0, -1));
      n++;
      line = physical[n] ?? '';
    }
    const logical = parts.join('');
    const trimmed = logical.trimStart();
    if (trimmed.startsWith('[')) {
      const close = trimmed.indexOf(']');
      if (close < 0)
        throw new FormatError(`line ${startLine}: expected ] to close the section name`, {
          offset: startOffset,
        });
      const name = trimmed.slice(1, close).trim();
      const rest = trimmed.slice(close + 1).trim();
      if (rest !== '' && !rest.startsWith(';'))
        throw new FormatError(`line ${startLine}: expected only a comment after [${name}], found "${rest}"`, {
          offset: startOffset,
        });
      if (name === '' || name.length > MAX_SECTION_NAME)
        throw new FormatError(
          `line ${startLine}: expected a section name of 1 to ${MAX_SECTION_NAME} characters, found ${name.length}`,
          { offset: startOffset },
        );
      current = { name, line: startLine, lines: [] };
      sections.push(current);
      continue;
    }
    const tokens = tokenizeLine(logical, startLine, startOffset);
    if (tokens === undefined) continue;
    if (current === undefined)
      throw new FormatError(`line ${startLine}: expected a [section] header before the first entry`, {
        offset: startOffset,
      });
    current.lines.push({ line: startLine, offset: startOffset, ...tokens });
  }
  return sections;
}

/** Replaces %strkey% tokens; %% is a percent sign; unknown tokens (e.g. %12% dirids) stay. */
function substitute(text: string, strings: ReadonlyMap<string, string>, line: RawLine): string {
  if (!text.includes('%')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    const end = text.indexOf('%', i + 1);
    if (end < 0) {
      out += text.slice(i);
      break;
    }
    if (end === i + 1) {
      out += '%';
      i += 2;
      continue;
    }
    const name = text.slice(i + 1, end);
    const value = strings.get(name.toLowerCase());
    out += value ?? `%${name}%`;
    i = end + 1;
    if (out.length > MAX_FIELD_CHARS)
      throw new FormatError(
        `line ${line.line}: a field grows past ${MAX_FIELD_CHARS} characters by substitution`,
        {
          code: 'LIMIT_EXCEEDED',
          offset: line.offset,
        },
      );
  }
  return out;
}

const STRINGS_SECTION = /^strings(?:\.([0-9a-f]{1,4}))?$/i;

function buildStrings(
  sections: ReadonlyMap<string, { name: string; lines: RawLine[] }>,
  language: string,
): Map<string, string> {
  // Lookup order: [Strings.<language>], then [Strings], then the other localized sections in file
  // order (an INF with only localized strings still resolves on another system language).
  const order: string[] = [];
  const wanted = `strings.${language.toLowerCase().padStart(4, '0')}`;
  if (sections.has(wanted)) order.push(wanted);
  if (sections.has('strings')) order.push('strings');
  for (const name of sections.keys())
    if (STRINGS_SECTION.test(name) && !order.includes(name)) order.push(name);
  const table = new Map<string, string>();
  for (const name of order) {
    for (const l of sections.get(name)?.lines ?? []) {
      if (l.key === undefined) continue;
      const k = l.key.toLowerCase();
      if (!table.has(k)) table.set(k, l.values.join(','));
    }
  }
  return table;
}

/** Parses INF text into sections and lines with strings substituted. Throws only FormatError. */
export function parseInf(input: Uint8Array | string, options: ParseInfOptions = {}): InfDocument {
  const { text, encoding } =
    typeof input === 'string' ? { text: input, encoding: 'utf-8' as const } : decodeInf(input);
  const merged = new Map<string, { name: string; lines: RawLine[] }>();
  for (const s of splitSections(text.startsWith('\ufeff') ? text.slice(1) : text)) {
    const k = s.name.toLowerCase();
    const existing = merged.get(k);
    if (existing === undefined) merged.set(k, { name: s.name, lines: [...s.lines] });
    else existing.lines.push(...s.lines);
  }
  const strings = buildStrings(merged, options.language ?? '0409');
  const sections = new Map<string, InfSection>();
  for (const [k, s] of merged) {
    const isStrings = STRINGS_SECTION.test(k);
    sections.set(k, {
      name: s.name,
      lines: s.lines.map((l) => ({
        line: l.line,
        rawKey: l.key,
        key: l.key === undefined || isStrings ? l.key : substitute(l.key, strings, l),
        rawValues: l.values,
        values: isStrings ? l.values : l.values.map((v) => substitute(v, strings, l)),
      })),
    });
  }
  return { sections, strings, encoding };
}

/** The section named `name` (any case), or undefined. */
export function infSection(doc: InfDocument, name: string): InfSection | undefined {
  return doc.sections.get(name.toLowerCase());
}

/** The lines of `section` whose key is `key` (any case). */
export function infEntries(section: InfSection | undefined, key: string): InfLine[] {
  const k = key.toLowerCase();
  return section === undefined ? [] : section.lines.filter((l) => l.key?.toLowerCase() === k);
}

/** The first value of the first `key` line of `section`, or undefined. */
export function infValue(section: InfSection | undefined, key: string): string | undefined {
  return infEntries(section, key)[0]?.values[0];
}

// ---------------------------------------------------------------------------------------------
// The driver package view: Version, Manufacturer/Models, install sections, services, files.

export const INF_ARCHES = ['x86', 'amd64', 'arm', 'arm64', 'ia64'] as const;
export type InfArch = (typeof INF_ARCHES)[number];

/** A TargetOSVersion decoration, e.g. `NTamd64.10.0...14393`. Absent parts are undefined. */
export interface InfTargetOs {
  readonly text: string;
  readonly arch: InfArch | undefined;
  readonly major: number | undefined;
  readonly minor: number | undefined;
  /** VER_NT_WORKSTATION 1, VER_NT_DOMAIN_CONTROLLER 2, VER_NT_SERVER 3. */
  readonly productType: number | undefined;
  readonly suiteMask: number | undefined;
  readonly build: number | undefined;
}

export interface InfDriverVer {
  /** ISO date, yyyy-mm-dd. */
  readonly date: string;
  /** w.x.y.z, when given. */
  readonly version: string | undefined;
}

export interface InfVersion {
  readonly signature: string;
  readonly class: string | undefined;
  /** Lower case, with braces, as Windows writes ClassGUID values: `{4d36e97b-...}`. */
  readonly classGuid: string | undefined;
  readonly provider: string | undefined;
  readonly driverVer: InfDriverVer | undefined;
  /** CatalogFile, and its platform-decorated variants by lower-cased decoration (`ntamd64`). */
  readonly catalogFile: string | undefined;
  readonly catalogFiles: Readonly<Record<string, string>>;
}

export interface InfModel {
  readonly line: number;
  readonly description: string;
  readonly installSection: string;
  /** The first ID after the install section, the device's hardware ID. */
  readonly hardwareId: string | undefined;
  readonly compatibleIds: readonly string[];
}

export interface InfModelsSection {
  readonly manufacturer: string;
  /** Index of the manufacturer in InfDriver.manufacturers. */
  readonly manufacturerIndex: number;
  /** The models section's name as Windows looks it up: `VioStor.NTamd64.6.3`. */
  readonly section: string;
  /** undefined for the undecorated models section. */
  readonly targetOs: InfTargetOs | undefined;
  /** Whether the INF has this section (a Manufacturer entry can name one that is missing). */
  readonly present: boolean;
  readonly models: readonly InfModel[];
}

export interface InfManufacturer {
  readonly line: number;
  readonly name: string;
  readonly modelsSection: string;
  readonly targetOses: readonly InfTargetOs[];
}

export interface InfSourceDisk {
  readonly id: string;
  readonly description: string;
  readonly tagFile: string | undefined;
  readonly path: string | undefined;
  /** undefined for [SourceDisksNames], else the decoration (`amd64`). */
  readonly platform: string | undefined;
}

export interface InfSourceFile {
  readonly name: string;
  readonly diskId: string;
  readonly subdir: string | undefined;
  readonly size: number | undefined;
  readonly platform: string | undefined;
}

export interface InfDestinationDir {
  readonly dirid: number;
  readonly subdir: string | undefined;
}

export interface InfDriver {
  readonly version: InfVersion;
  readonly manufacturers: readonly InfManufacturer[];
  readonly modelsSections: readonly InfModelsSection[];
  readonly sourceDisksNames: readonly InfSourceDisk[];
  readonly sourceDisksFiles: readonly InfSourceFile[];
  /** By lower-cased file-list section name; `defaultdestdir` for DefaultDestDir. */
  readonly destinationDirs: ReadonlyMap<string, InfDestinationDir>;
}

function lineError(l: InfLine, message: string): FormatError {
  return new FormatError(`line ${l.line}: ${message}`);
}

function parseTargetOs(text: string, l: InfLine): InfTargetOs {
  const parts = text.split('.');
  const head = (parts[0] ?? '').toLowerCase();
  if (!head.startsWith('nt'))
    throw lineError(l, `expected a TargetOSVersion like NTamd64.10.0...14393, found "${text}"`);
  const archText = head.slice(2);
  let arch: InfArch | undefined;
  if (archText !== '') {
    arch = INF_ARCHES.find((a) => a === archText);
    if (arch === undefined)
      throw lineError(
        l,
        `expected an architecture of ${INF_ARCHES.join(', ')} after NT, found "${archText}"`,
      );
  }
  if (parts.length > 6) throw lineError(l, `expected at most 6 dot-separated parts in "${text}"`);
  const num = (i: number, what: string): number | undefined => {
    const p = (parts[i] ?? '').trim();
    if (p === '') return undefined;
    const v = /^0x[0-9a-f]{1,8}$/i.test(p) ? Number.parseInt(p, 16) : /^\d{1,9}$/.test(p) ? Number(p) : NaN;
    if (Number.isNaN(v)) throw lineError(l, `expected a number for the ${what} in "${text}", found "${p}"`);
    return v;
  };
  return {
    text,
    arch,
    major: num(1, 'major version'),
    minor: num(2, 'minor version'),
    productType: num(3, 'product type'),
    suiteMask: num(4, 'suite mask'),
    build: num(5, 'build number'),
  };
}

function parseDriverVer(l: InfLine): InfDriverVer {
  const [dateText = '', versionText] = l.values.map((v) => v.trim());
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(dateText);
  if (m === null) throw lineError(l, `expected DriverVer = mm/dd/yyyy[,w.x.y.z], found "${dateText}"`);
  const [month, day] = [Number(m[1]), Number(m[2])];
  if (month < 1 || month > 12 || day < 1 || day > 31)
    throw lineError(l, `expected a DriverVer date mm/dd/yyyy with a real month and day, found "${dateText}"`);
  if (versionText !== undefined && versionText !== '' && !/^\d{1,5}(\.\d{1,5}){0,3}$/.test(versionText))
    throw lineError(l, `expected a DriverVer version w.x.y.z of 16-bit numbers, found "${versionText}"`);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return {
    date: `${m[3] ?? ''}-${pad(month)}-${pad(day)}`,
    version: versionText === undefined || versionText === '' ? undefined : versionText,
  };
}

function parseVersion(doc: InfDocument): InfVersion {
  const section = infSection(doc, 'Version');
  if (section === undefined) throw new FormatError('expected a [Version] section, found none');
  const signature = infValue(section, 'Signature');
  if (signature === undefined) throw new FormatError('expected a Signature entry in [Version], found none');
  const guidText = infValue(section, 'ClassGUID');
  let classGuid: string | undefined;
  if (guidText !== undefined) {
    if (!/^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/i.test(guidText))
      throw new FormatError(
        `expected ClassGUID = {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}, found "${guidText}"`,
      );
    classGuid = guidText.toLowerCase();
  }
  const driverVerLine = infEntries(section, 'DriverVer')[0];
  const catalogFiles: Record<string, string> = {};
  for (const l of section.lines) {
    const m = /^catalogfile\.(.+)$/i.exec(l.key ?? '');
    if (m?.[1] !== undefined && l.values[0] !== undefined) catalogFiles[m[1].toLowerCase()] = l.values[0];
  }
  return {
    signature,
    class: infValue(section, 'Class'),
    classGuid,
    provider: infValue(section, 'Provider'),
    driverVer: driverVerLine === undefined ? undefined : parseDriverVer(driverVerLine),
    catalogFile: infValue(section, 'CatalogFile'),
    catalogFiles,
  };
}

function parseModels(doc: InfDocument, name: string): { present: boolean; models: InfModel[] } {
  const section = infSection(doc, name);
  if (section === undefined) return { present: false, models: [] };
  const models: InfModel[] = [];
  for (const l of section.lines) {
    const [installSection, ...ids] = l.values.map((v) => v.trim());
    if (l.key === undefined || installSection === undefined || installSection === '')
      throw lineError(l, `expected device-description = install-section[,hw-id...] in [${section.name}]`);
    const present = ids.filter((id) => id !== '');
    models.push({
      line: l.line,
      description: l.key,
      installSection,
      hardwareId: present[0],
      compatibleIds: present.slice(1),
    });
  }
  return { present: true, models };
}

function parseManufacturers(doc: InfDocument): {
  manufacturers: InfManufacturer[];
  models: InfModelsSection[];
} {
  const manufacturers: InfManufacturer[] = [];
  const modelsSections: InfModelsSection[] = [];
  // Many Manufacturer entries may name the same models section: each is read once.
  const read = new Map<string, { present: boolean; models: InfModel[] }>();
  for (const l of infSection(doc, 'Manufacturer')?.lines ?? []) {
    let name: string;
    let modelsSection: string;
    let decorations: string[];
    if (l.key === undefined) {
      // `%strkey%` alone: the string key names the models section.
      const raw = (l.rawValues[0] ?? '').trim();
      name = (l.values[0] ?? '').trim();
      modelsSection = /^%[^%]+%$/.test(raw) ? raw.slice(1, -1) : name;
      decorations = [];
    } else {
      name = l.key;
      [modelsSection = '', ...decorations] = l.values.map((v) => v.trim());
    }
    if (modelsSection === '')
      throw lineError(l, 'expected manufacturer = models-section-name in [Manufacturer]');
    const targetOses = decorations.filter((d) => d !== '').map((d) => parseTargetOs(d, l));
    manufacturers.push({ line: l.line, name, modelsSection, targetOses });
    const sectionNames: [string, InfTargetOs | undefined][] =
      targetOses.length === 0
        ? [[modelsSection, undefined]]
        : [
            [modelsSection, undefined],
            ...targetOses.map((t): [string, InfTargetOs] => [`${modelsSection}.${t.text}`, t]),
          ];
    for (const [section, targetOs] of sectionNames) {
      const key = section.toLowerCase();
      const cached = read.get(key) ?? parseModels(doc, section);
      read.set(key, cached);
      const { present, models } = cached;
      if (targetOs === undefined && !present && targetOses.length > 0) continue;
      modelsSections.push({
        manufacturer: name,
        manufacturerIndex: manufacturers.length - 1,
        section,
        targetOs,
        present,
        models,
      });
    }
  }
  return { manufacturers, models: modelsSections };
}

function platformSections(
  doc: InfDocument,
  base: string,
): { section: InfSection; platform: string | undefined }[] {
  const out: { section: InfSection; platform: string | undefined }[] = [];
  const prefix = `${base.toLowerCase()}.`;
  for (const [k, s] of doc.sections) {
    if (k === base.toLowerCase()) out.push({ section: s, platform: undefined });
    else if (k.startsWith(prefix)) out.push({ section: s, platform: k.slice(prefix.length) });
  }
  return out;
}

function optional(text: string | undefined): string | undefined {
  const t = text?.trim();
  return t === undefined || t === '' ? undefined : t;
}

function parseIntValue(text: string, l: InfLine, what: string): number {
  const t = text.trim();
  const v = /^0x[0-9a-f]{1,8}$/i.test(t) ? Number.parseInt(t, 16) : /^\d{1,10}$/.test(t) ? Number(t) : NaN;
  if (Number.isNaN(v) || v > 0xffffffff)
    throw lineError(l, `expected a 32-bit number for ${what}, found "${t}"`);
  return v;
}

/** The driver package view of an INF: Version, models per manufacturer and OS, files, dirs. */
export function readInfDriver(doc: InfDocument): InfDriver {
  const version = parseVersion(doc);
  const { manufacturers, models } = parseManufacturers(doc);
  const sourceDisksNames: InfSourceDisk[] = [];
  for (const { section, platform } of platformSections(doc, 'SourceDisksNames')) {
    for (const l of section.lines) {
      if (l.key === undefined)
        throw lineError(l, `expected diskid = disk-description,... in [${section.name}]`);
      sourceDisksNames.push({
        id: l.key,
        description: l.values[0] ?? '',
        tagFile: optional(l.values[1]),
        path: optional(l.values[3]),
        platform,
      });
    }
  }
  const sourceDisksFiles: InfSourceFile[] = [];
  for (const { section, platform } of platformSections(doc, 'SourceDisksFiles')) {
    for (const l of section.lines) {
      const diskId = optional(l.values[0]);
      if (l.key === undefined || diskId === undefined)
        throw lineError(l, `expected filename = diskid[,subdir[,size]] in [${section.name}]`);
      const sizeText = optional(l.values[2]);
      sourceDisksFiles.push({
        name: l.key,
        diskId,
        subdir: optional(l.values[1]),
        size: sizeText === undefined ? undefined : parseIntValue(sizeText, l, 'the file size'),
        platform,
      });
    }
  }
  const destinationDirs = new Map<string, InfDestinationDir>();
  for (const l of infSection(doc, 'DestinationDirs')?.lines ?? []) {
    const dirid = optional(l.values[0]);
    if (l.key === undefined || dirid === undefined)
      throw lineError(l, 'expected file-list-section = dirid[,subdir] in [DestinationDirs]');
    destinationDirs.set(l.key.toLowerCase(), {
      dirid: parseIntValue(dirid, l, 'the dirid'),
      subdir: optional(l.values[1]),
    });
  }
  return {
    version,
    manufacturers,
    modelsSections: models,
    sourceDisksNames,
    sourceDisksFiles,
    destinationDirs,
  };
}

/** Parses an INF and reads its driver package view; throws only FormatError. */
export function parseInfDriver(input: Uint8Array | string, options: ParseInfOptions = {}): InfDriver {
  return readInfDriver(parseInf(input, options));
}

// ---------------------------------------------------------------------------------------------
// Choosing the models section for a Windows image ("INF Manufacturer Section", remarks on
// TargetOSVersion: Windows uses the decoration that matches the running system best).

/** The Windows an INF is matched against: e.g. Server 2022 x64 is amd64 10.0.20348, product type 3. */
export interface InfTargetSystem {
  readonly arch: InfArch;
  readonly major: number;
  readonly minor: number;
  readonly build: number;
  /** VER_NT_SERVER (3) for Windows Server; undefined matches any product type decoration. */
  readonly productType?: number;
  readonly suiteMask?: number;
}

/** Whether a decoration applies to `system`; undefined targetOs is the undecorated section. */
export function targetOsMatches(targetOs: InfTargetOs | undefined, system: InfTargetSystem): boolean {
  // Undecorated and `NT` sections serve x86 only: other architectures need their decoration.
  if (targetOs === undefined || targetOs.arch === undefined) {
    if (system.arch !== 'x86') return false;
    if (targetOs === undefined) return true;
  } else if (targetOs.arch !== system.arch) return false;
  const want = [targetOs.major ?? 0, targetOs.minor ?? 0];
  const have = [system.major, system.minor];
  if (want[0] !== have[0]) {
    if ((want[0] ?? 0) > (have[0] ?? 0)) return false;
  } else if ((want[1] ?? 0) > (have[1] ?? 0)) return false;
  if (targetOs.build !== undefined && targetOs.build > system.build) return false;
  if (
    targetOs.productType !== undefined &&
    system.productType !== undefined &&
    targetOs.productType !== system.productType
  )
    return false;
  if (
    targetOs.suiteMask !== undefined &&
    targetOs.suiteMask !== 0 &&
    (system.suiteMask === undefined || (system.suiteMask & targetOs.suiteMask) !== targetOs.suiteMask)
  )
    return false;
  return true;
}

function rankKey(t: InfTargetOs | undefined): number[] {
  if (t === undefined) return [0, 0, 0, 0, 0, 0, 0];
  return [
    1,
    t.major ?? 0,
    t.minor ?? 0,
    t.build ?? 0,
    t.arch === undefined ? 0 : 1,
    t.productType === undefined ? 0 : 1,
    t.suiteMask === undefined || t.suiteMask === 0 ? 0 : 1,
  ];
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * For each manufacturer, the models section Windows would use on `system`: among the decorations
 * that match, the highest OS version (major, minor, then build), then the most specific (an
 * architecture, a product type, a suite mask). Manufacturers with no matching present section are
 * left out: an empty result means the INF does not install on that system.
 */
export function selectModelsSections(driver: InfDriver, system: InfTargetSystem): InfModelsSection[] {
  const best = new Map<number, InfModelsSection>();
  for (const s of driver.modelsSections) {
    if (!s.present || !targetOsMatches(s.targetOs, system)) continue;
    const current = best.get(s.manufacturerIndex);
    if (current === undefined || compareRank(rankKey(s.targetOs), rankKey(current.targetOs)) > 0)
      best.set(s.manufacturerIndex, s);
  }
  return [...best.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
}

// ---------------------------------------------------------------------------------------------
// Install sections: CopyFiles and AddService.

export interface InfCopyFile {
  /** The name the file has once copied. */
  readonly destName: string;
  /** The source name, when it differs from destName. */
  readonly sourceName: string;
  readonly flags: number | undefined;
  /** The file-list section, or undefined for `CopyFiles=@file`. */
  readonly fileList: string | undefined;
  /** From [DestinationDirs] (the file-list section's entry, else DefaultDestDir); undefined when neither. */
  readonly destination: InfDestinationDir | undefined;
}

export interface InfService {
  readonly name: string;
  readonly flags: number;
  readonly installSection: string;
  readonly eventLogSection: string | undefined;
  readonly displayName: string | undefined;
  readonly description: string | undefined;
  readonly serviceType: number | undefined;
  readonly startType: number | undefined;
  readonly errorControl: number | undefined;
  readonly serviceBinary: string | undefined;
  readonly loadOrderGroup: string | undefined;
  readonly dependencies: readonly string[];
}

export interface InfInstall {
  /** The DDInstall section used, with its decoration (`scsi_inst`, `scsi_inst.NTamd64`). */
  readonly section: string;
  readonly copyFiles: readonly InfCopyFile[];
  readonly services: readonly InfService[];
}

/** The DDInstall section Windows uses for `base` on `arch`: .NT<arch>, then .NT, then undecorated. */
export function installSectionName(doc: InfDocument, base: string, arch: InfArch): string | undefined {
  for (const name of [`${base}.NT${arch}`, `${base}.NT`, base])
    if (infSection(doc, name) !== undefined) return name;
  return undefined;
}

function copyFilesOf(
  doc: InfDocument,
  section: InfSection,
  destinationDirs: ReadonlyMap<string, InfDestinationDir>,
): InfCopyFile[] {
  const out: InfCopyFile[] = [];
  const fallback = destinationDirs.get('defaultdestdir');
  for (const l of infEntries(section, 'CopyFiles')) {
    for (const item of l.values.map((v) => v.trim()).filter((v) => v !== '')) {
      if (item.startsWith('@')) {
        const name = item.slice(1);
        out.push({
          destName: name,
          sourceName: name,
          flags: undefined,
          fileList: undefined,
          destination: fallback,
        });
        continue;
      }
      const list = infSection(doc, item);
      if (list === undefined)
        throw lineError(l, `CopyFiles names section [${item}], which the INF does not have`);
      const destination = destinationDirs.get(item.toLowerCase()) ?? fallback;
      for (const f of list.lines) {
        const fields = f.key === undefined ? f.values : [f.key, ...f.values];
        const destName = optional(fields[0]);
        if (destName === undefined)
          throw lineError(f, `expected destination-file-name[,source-file-name,,flag] in [${list.name}]`);
        const flagsText = optional(fields[3]);
        out.push({
          destName,
          sourceName: optional(fields[1]) ?? destName,
          flags: flagsText === undefined ? undefined : parseIntValue(flagsText, f, 'the CopyFiles flags'),
          fileList: list.name,
          destination,
        });
      }
    }
  }
  return out;
}

function serviceOf(doc: InfDocument, l: InfLine): InfService {
  const [name, flagsText, installName, eventLog] = l.values.map((v) => v.trim());
  if (name === undefined || name === '' || installName === undefined || installName === '')
    throw lineError(l, 'expected AddService = ServiceName,[flags],service-install-section[,...]');
  const section = infSection(doc, installName);
  if (section === undefined)
    throw lineError(l, `AddService names section [${installName}], which the INF does not have`);
  const num = (key: string): number | undefined => {
    const e = infEntries(section, key)[0];
    const v = optional(e?.values[0]);
    return e === undefined || v === undefined ? undefined : parseIntValue(v, e, key);
  };
  const dependencies = infEntries(section, 'Dependencies').flatMap((e) =>
    e.values.map((v) => v.trim()).filter((v) => v !== ''),
  );
  return {
    name,
    flags:
      flagsText === undefined || flagsText === '' ? 0 : parseIntValue(flagsText, l, 'the AddService flags'),
    installSection: section.name,
    eventLogSection: optional(eventLog),
    displayName: optional(infValue(section, 'DisplayName')),
    description: optional(infValue(section, 'Description')),
    serviceType: num('ServiceType'),
    startType: num('StartType'),
    errorControl: num('ErrorControl'),
    serviceBinary: optional(infValue(section, 'ServiceBinary')),
    loadOrderGroup: optional(infValue(section, 'LoadOrderGroup')),
    dependencies,
  };
}

/** What installing `model` on `arch` copies and which services it adds. */
export function readInfInstall(
  doc: InfDocument,
  driver: InfDriver,
  model: InfModel,
  arch: InfArch,
): InfInstall {
  const name = installSectionName(doc, model.installSection, arch);
  if (name === undefined)
    throw new FormatError(
      `line ${model.line}: the model names install section [${model.installSection}], which the INF does not have`,
    );
  const section = infSection(doc, name);
  if (section === undefined) throw new FormatError(`install section [${name}] vanished`);
  const services = infEntries(infSection(doc, `${name}.Services`), 'AddService').map((l) =>
    serviceOf(doc, l),
  );
  return { section: section.name, copyFiles: copyFilesOf(doc, section, driver.destinationDirs), services };
}

/** The [SourceDisksFiles] entries that apply on `arch`: the .arch section's, then the undecorated one's. */
export function sourceFilesFor(driver: InfDriver, arch: InfArch): InfSourceFile[] {
  const decorated = driver.sourceDisksFiles.filter((f) => f.platform === arch);
  const names = new Set(decorated.map((f) => f.name.toLowerCase()));
  return [
    ...decorated,
    ...driver.sourceDisksFiles.filter((f) => f.platform === undefined && !names.has(f.name.toLowerCase())),
  ];
}
