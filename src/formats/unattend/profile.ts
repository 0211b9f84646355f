// A deployment profile (the few things an administrator sets, in a YAML-friendly shape) turned
// into the answer file settings Windows reads, placed in the passes Microsoft's Unattended Windows
// Setup Reference gives them: computer name, product key, owner, time zone, domain join, network,
// RDP and RunSynchronous in specialize; locale, accounts, AutoLogon, FirstLogonCommands and OOBE in
// oobeSystem (the passes a pre-applied image runs at its first boot).
//
// Merge rule (mergeUnattend): within the same pass, component name and processorArchitecture, the
// overlay's settings win. Elements merge by name: a value (an element holding text) or a list (an
// element whose items carry wcm:action) of the overlay replaces the base's; an element holding other
// elements merges child by child. Everything else of the base (unknown components, settings,
// comments) is kept as it was. buildUnattend layers: defaults < the user's file < the profile.

import { AppError } from '../../core/errors.ts';
import { kmsClientKey, kmsEditions } from './kms.ts';
import {
  emptyUnattend,
  newComponent,
  UNATTEND_PASSES,
  type Unattend,
  type UnattendArch,
  type UnattendComponent,
  type UnattendPass,
  type UnattendSettings,
} from './model.ts';
import { encodeUnattendPassword } from './passwords.ts';
import { attributeOf, el, type XmlElement, type XmlNode } from './xml.ts';

export interface UnattendLocale {
  readonly input: string;
  readonly system: string;
  readonly ui: string;
  readonly user: string;
}

export interface UnattendProfile {
  readonly computerName?: string;
  readonly timeZone?: string;
  /** One language tag (fr-FR) for all four, or each apart. */
  readonly locale?: string | UnattendLocale;
  readonly adminPassword?: string;
  readonly organization?: string;
  readonly owner?: string;
  readonly autoLogon?: {
    readonly username: string;
    readonly password: string;
    readonly count?: number;
    readonly domain?: string;
  };
  readonly localAccounts?: readonly {
    readonly name: string;
    readonly password: string;
    readonly group?: string;
    readonly displayName?: string;
    readonly description?: string;
  }[];
  readonly firstLogonCommands?: readonly {
    readonly command: string;
    readonly description?: string;
    readonly requiresUserInput?: boolean;
  }[];
  readonly runSynchronous?: readonly {
    readonly path: string;
    readonly description?: string;
    readonly willReboot?: 'Always' | 'Never' | 'OnRequest';
  }[];
  readonly domainJoin?: {
    readonly domain: string;
    readonly username: string;
    readonly password: string;
    /** The domain of the account, when not `domain`. */
    readonly credentialsDomain?: string;
    readonly ou?: string;
  };
  readonly network?: {
    readonly interfaces?: readonly {
      /** The adapter's name (Ethernet) or MAC address (00-15-5D-01-02-03). */
      readonly identifier: string;
      /** Static addresses with their prefix length (10.0.0.5/24); none means DHCP. */
      readonly addresses?: readonly string[];
      readonly gateway?: string;
      readonly dns?: readonly string[];
    }[];
    readonly dnsDomain?: string;
  };
  /** true: Remote Desktop on (with its firewall group and Network Level Authentication); false: off. */
  readonly rdp?: boolean;
  /** 'kms' for the public KMS client key of the edition and build, or a product key. */
  readonly productKey?: string;
  /** The image's EditionID (ServerDatacenter, ServerStandardCore...), for productKey: kms. */
  readonly edition?: string;
  /** The image's build number (20348 for Server 2022), for productKey: kms. */
  readonly build?: number;
  readonly oobe?: {
    readonly hideEulaPage?: boolean;
    readonly skipMachineOobe?: boolean;
    readonly skipUserOobe?: boolean;
    readonly protectYourPC?: 1 | 2 | 3;
  };
  readonly arch?: UnattendArch;
}

/** The profile keys, for validation messages. */
export const PROFILE_KEYS = [
  'computerName',
  'timeZone',
  'locale',
  'adminPassword',
  'organization',
  'owner',
  'autoLogon',
  'localAccounts',
  'firstLogonCommands',
  'runSynchronous',
  'domainJoin',
  'network',
  'rdp',
  'productKey',
  'edition',
  'build',
  'oobe',
  'arch',
] as const;

type Placed = { pass: UnattendPass; component: string; setting: XmlElement };

const ADD: readonly [string, string] = ['wcm:action', 'add'];

function password(name: string, value: string, setting: 'AdministratorPassword' | 'Password'): XmlElement {
  return el(name, [el('Value', encodeUnattendPassword(value, setting)), el('PlainText', 'false')]);
}

function localeOf(locale: string | UnattendLocale): UnattendLocale {
  return typeof locale === 'string' ? { input: locale, system: locale, ui: locale, user: locale } : locale;
}

function productKeyOf(profile: UnattendProfile): string | undefined {
  const key = profile.productKey;
  if (key === undefined || key.toLowerCase() !== 'kms') return key;
  const { edition, build } = profile;
  if (edition === undefined || build === undefined)
    throw new AppError('INVALID_ARGUMENT', 'productKey: kms needs the image edition and build, found none', {
      hint: 'add edition: (e.g. ServerDatacenter) and build: (e.g. 20348) to the profile',
    });
  const found = kmsClientKey(edition, build);
  if (found === undefined)
    throw new AppError(
      'INVALID_ARGUMENT',
      `no public KMS client key for edition ${edition} on build ${build}; keys exist for ${kmsEditions(build).join(', ') || 'builds 14393 and later'}`,
      { hint: 'give the product key itself in productKey' },
    );
  return found;
}

function networkSettings(network: NonNullable<UnattendProfile['network']>): Placed[] {
  const out: Placed[] = [];
  const interfaces = network.interfaces ?? [];
  const ip = interfaces
    .filter((i) => (i.addresses?.length ?? 0) > 0)
    .map((i) => {
      const addresses = i.addresses ?? [];
      const v4 = addresses.some((a) => !a.includes(':'));
      const v6 = addresses.some((a) => a.includes(':'));
      const parts: XmlNode[] = [el('Identifier', i.identifier)];
      if (v4) parts.push(el('Ipv4Settings', [el('DhcpEnabled', 'false')]));
      if (v6) parts.push(el('Ipv6Settings', [el('DhcpEnabled', 'false')]));
      parts.push(
        el(
          'UnicastIpAddresses',
          addresses.map((a, n) => el('IpAddress', a, [ADD, ['wcm:keyValue', String(n + 1)]])),
        ),
      );
      if (i.gateway !== undefined) {
        const prefix = i.gateway.includes(':') ? '::/0' : '0.0.0.0/0';
        parts.push(
          el('Routes', [
            el(
              'Route',
              [el('Identifier', '0'), el('NextHopAddress', i.gateway), el('Prefix', prefix)],
              [ADD],
            ),
          ]),
        );
      }
      return el('Interface', parts, [ADD]);
    });
  if (ip.length > 0)
    out.push({ pass: 'specialize', component: 'Microsoft-Windows-TCPIP', setting: el('Interfaces', ip) });
  const dns = interfaces
    .filter((i) => (i.dns?.length ?? 0) > 0)
    .map((i) =>
      el(
        'Interface',
        [
          el('Identifier', i.identifier),
          el(
            'DNSServerSearchOrder',
            (i.dns ?? []).map((a, n) => el('IpAddress', a, [ADD, ['wcm:keyValue', String(n + 1)]])),
          ),
        ],
        [ADD],
      ),
    );
  if (network.dnsDomain !== undefined)
    out.push({
      pass: 'specialize',
      component: 'Microsoft-Windows-DNS-Client',
      setting: el('DNSDomain', network.dnsDomain),
    });
  if (dns.length > 0)
    out.push({
      pass: 'specialize',
      component: 'Microsoft-Windows-DNS-Client',
      setting: el('Interfaces', dns),
    });
  return out;
}

function placedSettings(profile: UnattendProfile): Placed[] {
  const shell = 'Microsoft-Windows-Shell-Setup';
  const out: Placed[] = [];
  const spec = (component: string, setting: XmlElement): void =>
    void out.push({ pass: 'specialize', component, setting });
  const oobe = (component: string, setting: XmlElement): void =>
    void out.push({ pass: 'oobeSystem', component, setting });

  if (profile.computerName !== undefined) spec(shell, el('ComputerName', profile.computerName));
  const key = productKeyOf(profile);
  if (key !== undefined) spec(shell, el('ProductKey', key));
  if (profile.organization !== undefined) spec(shell, el('RegisteredOrganization', profile.organization));
  if (profile.owner !== undefined) spec(shell, el('RegisteredOwner', profile.owner));
  if (profile.timeZone !== undefined) spec(shell, el('TimeZone', profile.timeZone));
  if (profile.runSynchronous !== undefined && profile.runSynchronous.length > 0)
    spec(
      'Microsoft-Windows-Deployment',
      el(
        'RunSynchronous',
        profile.runSynchronous.map((c, n) =>
          el(
            'RunSynchronousCommand',
            [
              ...(c.description === undefined ? [] : [el('Description', c.description)]),
              el('Order', n + 1),
              el('Path', c.path),
              ...(c.willReboot === undefined ? [] : [el('WillReboot', c.willReboot)]),
            ],
            [ADD],
          ),
        ),
      ),
    );
  if (profile.domainJoin !== undefined) {
    const j = profile.domainJoin;
    spec(
      'Microsoft-Windows-UnattendedJoin',
      el('Identification', [
        el('Credentials', [
          el('Domain', j.credentialsDomain ?? j.domain),
          el('Password', j.password),
          el('Username', j.username),
        ]),
        el('JoinDomain', j.domain),
        ...(j.ou === undefined ? [] : [el('MachineObjectOU', j.ou)]),
      ]),
    );
  }
  if (profile.network !== undefined) out.push(...networkSettings(profile.network));
  if (profile.rdp !== undefined) {
    spec('Microsoft-Windows-TerminalServices-LocalSessionManager', el('fDenyTSConnections', !profile.rdp));
    if (profile.rdp) {
      spec(
        'Networking-MPSSVC-Svc',
        el('FirewallGroups', [
          el(
            'FirewallGroup',
            [el('Active', 'true'), el('Group', 'Remote Desktop'), el('Profile', 'all')],
            [ADD, ['wcm:keyValue', 'RemoteDesktop']],
          ),
        ]),
      );
      spec('Microsoft-Windows-TerminalServices-RDP-WinStationExtensions', el('UserAuthentication', 1));
    }
  }

  if (profile.locale !== undefined) {
    const l = localeOf(profile.locale);
    for (const [name, value] of [
      ['InputLocale', l.input],
      ['SystemLocale', l.system],
      ['UILanguage', l.ui],
      ['UserLocale', l.user],
    ] as const)
      oobe('Microsoft-Windows-International-Core', el(name, value));
  }
  if (profile.adminPassword !== undefined || profile.localAccounts !== undefined) {
    const accounts: XmlElement[] = [];
    if (profile.adminPassword !== undefined)
      accounts.push(password('AdministratorPassword', profile.adminPassword, 'AdministratorPassword'));
    if (profile.localAccounts !== undefined)
      accounts.push(
        el(
          'LocalAccounts',
          profile.localAccounts.map((a) =>
            el(
              'LocalAccount',
              [
                password('Password', a.password, 'Password'),
                ...(a.description === undefined ? [] : [el('Description', a.description)]),
                ...(a.displayName === undefined ? [] : [el('DisplayName', a.displayName)]),
                el('Group', a.group ?? 'Administrators'),
                el('Name', a.name),
              ],
              [ADD],
            ),
          ),
        ),
      );
    oobe(shell, el('UserAccounts', accounts));
  }
  if (profile.autoLogon !== undefined) {
    const a = profile.autoLogon;
    oobe(
      shell,
      el('AutoLogon', [
        password('Password', a.password, 'Password'),
        ...(a.domain === undefined ? [] : [el('Domain', a.domain)]),
        el('Enabled', 'true'),
        el('LogonCount', a.count ?? 1),
        el('Username', a.username),
      ]),
    );
  }
  if (profile.firstLogonCommands !== undefined && profile.firstLogonCommands.length > 0)
    oobe(
      shell,
      el(
        'FirstLogonCommands',
        profile.firstLogonCommands.map((c, n) =>
          el(
            'SynchronousCommand',
            [
              el('CommandLine', c.command),
              ...(c.description === undefined ? [] : [el('Description', c.description)]),
              el('Order', n + 1),
              el('RequiresUserInput', c.requiresUserInput ?? false),
            ],
            [ADD],
          ),
        ),
      ),
    );
  if (profile.oobe !== undefined) oobe(shell, oobeElement(profile.oobe));
  return out;
}

function oobeElement(o: NonNullable<UnattendProfile['oobe']>): XmlElement {
  const parts: XmlElement[] = [];
  if (o.hideEulaPage !== undefined) parts.push(el('HideEULAPage', o.hideEulaPage));
  if (o.protectYourPC !== undefined) parts.push(el('ProtectYourPC', o.protectYourPC));
  if (o.skipMachineOobe !== undefined) parts.push(el('SkipMachineOOBE', o.skipMachineOobe));
  if (o.skipUserOobe !== undefined) parts.push(el('SkipUserOOBE', o.skipUserOobe));
  return el('OOBE', parts);
}

function assemble(placed: readonly Placed[], arch: UnattendArch): Unattend {
  const settings: UnattendSettings[] = [];
  for (const pass of UNATTEND_PASSES) {
    const here = placed.filter((p) => p.pass === pass);
    if (here.length === 0) continue;
    const names = [...new Set(here.map((p) => p.component))];
    settings.push({
      pass,
      components: names.map((name) =>
        newComponent(
          name,
          arch,
          here.filter((p) => p.component === name).map((p) => p.setting),
        ),
      ),
      other: [],
    });
  }
  return { ...emptyUnattend(), settings };
}

/** The settings the profile sets, and nothing else. Throws AppError for productKey: kms without a key. */
export function unattendFromProfile(profile: UnattendProfile): Unattend {
  return assemble(placedSettings(profile), profile.arch ?? 'amd64');
}

/** What a generated answer file has unless the user's file or the profile says otherwise: no EULA
 * page and no machine OOBE, so that the first boot runs to the logon screen unattended. */
export function unattendDefaults(arch: UnattendArch): Unattend {
  return assemble(
    [
      {
        pass: 'oobeSystem',
        component: 'Microsoft-Windows-Shell-Setup',
        setting: oobeElement({ hideEulaPage: true, skipMachineOobe: true }),
      },
    ],
    arch,
  );
}

function isList(e: XmlElement): boolean {
  return e.children.some((c) => c.kind === 'element' && attributeOf(c, 'wcm:action') !== undefined);
}

function isValue(e: XmlElement): boolean {
  return !e.children.some((c) => c.kind === 'element');
}

function mergeChildren(base: readonly XmlNode[], overlay: readonly XmlNode[]): XmlNode[] {
  const out = [...base];
  for (const o of overlay) {
    if (o.kind !== 'element') continue;
    const at = out.findIndex((b) => b.kind === 'element' && b.name === o.name);
    const b = out[at];
    if (b?.kind !== 'element') {
      out.push(o);
      continue;
    }
    out[at] =
      isValue(o) || isList(o) || isValue(b) || isList(b)
        ? o
        : { ...b, children: mergeChildren(b.children, o.children) };
    // Later elements of the same name in the base are replaced by the one just placed.
    for (let i = out.length - 1; i > at; i--) {
      const later = out[i];
      if (later?.kind === 'element' && later.name === o.name) out.splice(i, 1);
    }
  }
  return out;
}

function sameComponent(a: UnattendComponent, b: UnattendComponent): boolean {
  return a.name === b.name && a.processorArchitecture === b.processorArchitecture;
}

/** `base` with `overlay`'s settings put in, by the merge rule above. */
export function mergeUnattend(base: Unattend, overlay: Unattend): Unattend {
  const settings = base.settings.map((s) => ({ ...s, components: [...s.components] }));
  for (const o of overlay.settings) {
    let target = settings.find((s) => s.pass === o.pass);
    if (target === undefined) {
      target = { ...o, components: [] };
      const rank = (p: string): number => UNATTEND_PASSES.indexOf(p as UnattendPass);
      const before = settings.findIndex((s) => rank(s.pass) > rank(o.pass));
      settings.splice(before < 0 ? settings.length : before, 0, target);
    }
    for (const c of o.components) {
      const at = target.components.findIndex((b) => sameComponent(b, c));
      const b = target.components[at];
      if (b === undefined) target.components.push(c);
      else target.components[at] = { ...b, settings: mergeChildren(b.settings, c.settings) };
    }
  }
  return { ...base, settings };
}

/** The answer file for a profile: defaults, then the user's file (when given), then the profile. */
export function buildUnattend(profile: UnattendProfile, base?: Unattend): Unattend {
  const generated = unattendFromProfile(profile);
  const defaults = unattendDefaults(profile.arch ?? 'amd64');
  const layered =
    base === undefined ? defaults : { ...base, settings: mergeUnattend(defaults, base).settings };
  return mergeUnattend(layered, generated);
}
