// Checks of an answer file before Windows reads it, each finding with the line it is about:
// well-formed XML (XML 1.0), the <unattend> root in its namespace, known configuration passes,
// components in a pass where Windows accepts them and settings known for the component (the table
// in components.ts, from Microsoft's Unattended Windows Setup Reference), the component identity
// Microsoft components carry, one processorArchitecture throughout (wow64 aside), and no password
// in plain text (<PlainText>true</PlainText>, or a password <Value> without <PlainText>false</PlainText>).
// An empty encoded <Value> is only a warning: Windows reads it as a blank password.

import { FormatError } from '../../core/errors.ts';
import { COMPONENT_RULES, settingPasses } from './components.ts';
import {
  isUnattendPass,
  MICROSOFT_PUBLIC_KEY_TOKEN,
  parseUnattend,
  UNATTEND_ARCHES,
  UNATTEND_PASSES,
  type Unattend,
  type UnattendArch,
  type UnattendComponent,
} from './model.ts';
import { decodeUnattendPassword } from './passwords.ts';
import { childElement, childElements, textOf, type XmlElement, type XmlNode } from './xml.ts';

export interface UnattendFinding {
  readonly line: number;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

/** Settings whose children <Value>/<PlainText> hold a password, with the suffix Windows appends. */
const PASSWORD_ELEMENTS: Readonly<Record<string, 'AdministratorPassword' | 'Password'>> = {
  AdministratorPassword: 'AdministratorPassword',
  Password: 'Password',
};

function lineOf(e: { readonly line?: number } | undefined, fallback: number): number {
  return e?.line ?? fallback;
}

function checkPasswords(
  e: XmlElement,
  component: UnattendComponent,
  path: string,
  out: UnattendFinding[],
): void {
  for (const c of childElements(e)) {
    const here = `${path}/${c.name}`;
    const suffix = PASSWORD_ELEMENTS[c.name];
    const value = childElement(c, 'Value');
    if (suffix !== undefined && value !== undefined) {
      const plain = textOf(childElement(c, 'PlainText'))?.trim().toLowerCase();
      if (plain !== 'false') {
        out.push({
          line: lineOf(c, 1),
          severity: 'error',
          message: `${here} is a plain-text password (${plain === undefined ? 'no <PlainText>false</PlainText>' : '<PlainText>true</PlainText>'}); encode it as Windows System Image Manager does (winsmith unattend render) and set <PlainText>false</PlainText>`,
        });
      } else if ((textOf(value) ?? '').trim() === '') {
        out.push({
          line: lineOf(value, lineOf(c, 1)),
          severity: 'warning',
          message: `${here}/Value is empty: Windows takes it as a blank password`,
        });
      } else {
        try {
          decodeUnattendPassword(textOf(value) ?? '', suffix);
        } catch {
          out.push({
            line: lineOf(value, lineOf(c, 1)),
            severity: 'error',
            message: `${here}/Value is not an encoded password (base64 of UTF-16LE password + "${suffix}") though PlainText is false`,
          });
        }
      }
    } else if (
      c.name === 'Password' &&
      path.endsWith('/Credentials') &&
      component.name === 'Microsoft-Windows-UnattendedJoin'
    ) {
      out.push({
        line: lineOf(c, 1),
        severity: 'warning',
        message: `${here} is in clear text: Windows has no encoded form for it; use an account that may only join computers, or an offline domain join`,
      });
    }
    checkPasswords(c, component, here, out);
  }
}

/** Whether an element or one below it has a wcm: attribute. */
function usesPrefix(n: XmlNode): boolean {
  return (
    n.kind === 'element' && (n.attributes.some(([k]) => k.startsWith('wcm:')) || n.children.some(usesPrefix))
  );
}

function checkComponent(pass: string, c: UnattendComponent, out: UnattendFinding[]): void {
  const line = c.line ?? 1;
  const rule = COMPONENT_RULES[c.name];
  if (c.name === '') out.push({ line, severity: 'error', message: 'component has no name attribute' });
  else if (rule === undefined)
    out.push({
      line,
      severity: 'warning',
      message: `component ${c.name} is not in winsmith's table: its pass and settings are not checked`,
    });
  else if (isUnattendPass(pass) && !rule.passes.includes(pass))
    out.push({
      line,
      severity: 'error',
      message: `component ${c.name} is not valid in the ${pass} pass; Windows accepts it in ${rule.passes.join(', ')}`,
    });
  if (!(UNATTEND_ARCHES as readonly string[]).includes(c.processorArchitecture))
    out.push({
      line,
      severity: 'error',
      message: `component ${c.name} has processorArchitecture "${c.processorArchitecture}"; expected one of ${UNATTEND_ARCHES.join(', ')}`,
    });
  if (c.publicKeyToken.toLowerCase() !== MICROSOFT_PUBLIC_KEY_TOKEN)
    out.push({
      line,
      severity: 'warning',
      message: `component ${c.name} has publicKeyToken "${c.publicKeyToken}"; Microsoft components have ${MICROSOFT_PUBLIC_KEY_TOKEN}`,
    });
  if (c.language !== 'neutral')
    out.push({
      line,
      severity: 'warning',
      message: `component ${c.name} has language "${c.language}"; expected neutral`,
    });
  if (c.versionScope !== 'nonSxS')
    out.push({
      line,
      severity: 'warning',
      message: `component ${c.name} has versionScope "${c.versionScope}"; expected nonSxS`,
    });
  const settings = childElements({
    kind: 'element',
    name: 'component',
    attributes: [],
    children: c.settings,
  });
  const usesWcm = c.settings.some(usesPrefix);
  if (usesWcm && !c.extraAttributes.some(([k]) => k === 'xmlns:wcm'))
    out.push({
      line,
      severity: 'error',
      message: `component ${c.name} uses wcm: attributes without declaring xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State"`,
    });
  for (const s of settings) {
    if (rule !== undefined) {
      const passes = settingPasses(c.name, s.name);
      if (passes === undefined)
        out.push({
          line: lineOf(s, line),
          severity: 'warning',
          message: `setting ${s.name} is not known for ${c.name}; known: ${Object.keys(rule.settings).join(', ')}`,
        });
      else if (isUnattendPass(pass) && rule.passes.includes(pass) && !passes.includes(pass))
        out.push({
          line: lineOf(s, line),
          severity: 'error',
          message: `setting ${c.name}/${s.name} is not valid in the ${pass} pass; Windows accepts it in ${passes.join(', ')}`,
        });
    }
  }
  checkPasswords({ kind: 'element', name: c.name, attributes: [], children: c.settings }, c, c.name, out);
}

export interface LintUnattendOptions {
  /** The image's architecture: components for another one (wow64 aside) are errors. */
  readonly arch?: UnattendArch;
}

function checkModel(u: Unattend, options: LintUnattendOptions, out: UnattendFinding[]): void {
  const seen = new Map<string, number>();
  let arch: { value: string; line: number } | undefined;
  for (const s of u.settings) {
    const line = s.line ?? 1;
    if (!isUnattendPass(s.pass))
      out.push({
        line,
        severity: 'error',
        message: `unknown pass "${s.pass}"; expected one of ${UNATTEND_PASSES.join(', ')}`,
      });
    const earlier = seen.get(s.pass);
    if (earlier !== undefined)
      out.push({
        line,
        severity: 'warning',
        message: `pass ${s.pass} appears again (first at line ${earlier})`,
      });
    else seen.set(s.pass, line);
    for (const c of s.components) {
      checkComponent(s.pass, c, out);
      if (
        c.processorArchitecture === 'wow64' ||
        !(UNATTEND_ARCHES as readonly string[]).includes(c.processorArchitecture)
      )
        continue;
      if (options.arch !== undefined && c.processorArchitecture !== options.arch)
        out.push({
          line: c.line ?? line,
          severity: 'error',
          message: `component ${c.name} is for ${c.processorArchitecture} but the image is ${options.arch}; Windows skips it`,
        });
      else if (arch === undefined) arch = { value: c.processorArchitecture, line: c.line ?? line };
      else if (arch.value !== c.processorArchitecture)
        out.push({
          line: c.line ?? line,
          severity: 'error',
          message: `component ${c.name} is for ${c.processorArchitecture} but the file is for ${arch.value} (line ${arch.line}); Windows skips components of another architecture`,
        });
    }
  }
}

/** The findings of an answer file, by line. Never throws for bad input: that is a finding too. */
export function lintUnattend(
  input: Uint8Array | string,
  options: LintUnattendOptions = {},
): UnattendFinding[] {
  let u: Unattend;
  try {
    u = parseUnattend(input);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    const m = /^line (\d+): (.*)$/s.exec(e.message);
    return [{ line: m === null ? 1 : Number(m[1]), severity: 'error', message: m?.[2] ?? e.message }];
  }
  const out: UnattendFinding[] = [];
  checkModel(u, options, out);
  return out.sort((a, b) => a.line - b.line);
}
