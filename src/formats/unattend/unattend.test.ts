import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FormatError } from '../../core/errors.ts';
import {
  buildUnattend,
  decodeUnattendPassword,
  encodeUnattendPassword,
  findComponents,
  kmsClientKey,
  lintUnattend,
  mergeUnattend,
  parseUnattend,
  renderUnattend,
  settingElements,
  textOf,
  unattendFromProfile,
  type UnattendProfile,
} from './index.ts';

const PROFILE: UnattendProfile = {
  computerName: 'WS-01',
  timeZone: 'W. Europe Standard Time',
  locale: 'fr-FR',
  adminPassword: 'S3cret!pass',
  organization: 'Contoso',
  owner: 'IT',
  autoLogon: { username: 'Administrator', password: 'auto-Pw1', count: 2 },
  localAccounts: [{ name: 'ops', password: 'ops-Pw1', displayName: 'Operations' }],
  firstLogonCommands: [{ command: 'cmd /c echo "a<b" & exit', description: 'first' }, { command: 'whoami' }],
  runSynchronous: [{ path: 'reg add HKLM\\SOFTWARE\\X /v Y /d 1 /f', willReboot: 'Never' }],
  domainJoin: {
    domain: 'contoso.com',
    username: 'joiner',
    password: 'join-pw',
    ou: 'OU=Servers,DC=contoso,DC=com',
  },
  network: {
    interfaces: [
      {
        identifier: 'Ethernet',
        addresses: ['10.0.0.5/24', 'fd00::5/64'],
        gateway: '10.0.0.1',
        dns: ['10.0.0.2', '10.0.0.3'],
      },
    ],
    dnsDomain: 'contoso.com',
  },
  rdp: true,
  productKey: 'kms',
  edition: 'ServerDatacenter',
  build: 20348,
};

/** A standard XML parser's verdict: fast-xml-parser's validator (deprecated there in favour of a
 * separate package that is not installed). */
function wellFormed(xml: string): true | object {
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  return XMLValidator.validate(xml);
}

const fxp = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' });

type Json = Record<string, unknown>;
function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const p of path) v = (v as Json)[p];
  return v;
}

test('the rendered XML is well-formed, UTF-8 with the declaration, and has the identity Windows needs', () => {
  const xml = renderUnattend(buildUnattend(PROFILE));
  assert.equal(wellFormed(xml), true);
  assert.ok(
    xml.startsWith(
      '<?xml version="1.0" encoding="utf-8"?>\n<unattend xmlns="urn:schemas-microsoft-com:unattend">',
    ),
  );
  const doc = fxp.parse(xml) as Json;
  const settings = at(doc, 'unattend', 'settings') as Json[];
  assert.deepEqual(
    settings.map((s) => s['@pass']),
    ['specialize', 'oobeSystem'],
  );
  for (const s of settings) {
    const components = ([] as Json[]).concat(s.component as Json | Json[]);
    for (const c of components) {
      assert.equal(c['@processorArchitecture'], 'amd64');
      assert.equal(c['@publicKeyToken'], '31bf3856ad364e35');
      assert.equal(c['@language'], 'neutral');
      assert.equal(c['@versionScope'], 'nonSxS');
      assert.equal(c['@xmlns:wcm'], 'http://schemas.microsoft.com/WMIConfig/2002/State');
      assert.equal(c['@xmlns:xsi'], 'http://www.w3.org/2001/XMLSchema-instance');
    }
  }
  assert.deepEqual(
    lintUnattend(xml).filter((f) => f.severity === 'error'),
    [],
  );
});

test('passwords are encoded as Windows expects and never appear in clear', () => {
  const xml = renderUnattend(buildUnattend(PROFILE));
  for (const secret of ['S3cret!pass', 'auto-Pw1', 'ops-Pw1']) assert.ok(!xml.includes(secret), secret);
  assert.ok(!xml.includes('<PlainText>true</PlainText>'));
  const u = parseUnattend(xml);
  const [shell] = findComponents(u, 'oobeSystem', 'Microsoft-Windows-Shell-Setup');
  assert.ok(shell);
  const accounts = settingElements(shell).find((e) => e.name === 'UserAccounts');
  const adminValue = /<AdministratorPassword>\s*<Value>([^<]+)<\/Value>\s*<PlainText>false<\/PlainText>/.exec(
    xml,
  )?.[1];
  assert.ok(accounts && adminValue);
  // Independent of our encoder: base64 of UTF-16LE(password + "AdministratorPassword").
  assert.equal(adminValue, Buffer.from('S3cret!passAdministratorPassword', 'utf16le').toString('base64'));
  assert.equal(decodeUnattendPassword(adminValue, 'AdministratorPassword'), 'S3cret!pass');
  const values = [
    ...xml.matchAll(/<Password>\s*<Value>([^<]+)<\/Value>\s*<PlainText>false<\/PlainText>/g),
  ].map((m) => m[1] ?? '');
  assert.deepEqual(values.map((v) => decodeUnattendPassword(v, 'Password')).sort(), ['auto-Pw1', 'ops-Pw1']);
  assert.throws(
    () => decodeUnattendPassword(encodeUnattendPassword('x', 'Password'), 'AdministratorPassword'),
    FormatError,
  );
});

test('settings land in their passes with their list keys', () => {
  const u = buildUnattend(PROFILE);
  const text = (pass: string, component: string, setting: string): string | undefined => {
    const c = findComponents(u, pass, component)[0];
    return c === undefined ? undefined : textOf(settingElements(c).find((e) => e.name === setting));
  };
  assert.equal(text('specialize', 'Microsoft-Windows-Shell-Setup', 'ComputerName'), 'WS-01');
  assert.equal(
    text('specialize', 'Microsoft-Windows-Shell-Setup', 'ProductKey'),
    'WX4NM-KYWYW-QJJR4-XV3QB-6VM33',
  );
  assert.equal(text('specialize', 'Microsoft-Windows-Shell-Setup', 'RegisteredOrganization'), 'Contoso');
  assert.equal(
    text('specialize', 'Microsoft-Windows-TerminalServices-LocalSessionManager', 'fDenyTSConnections'),
    'false',
  );
  assert.equal(
    text('specialize', 'Microsoft-Windows-TerminalServices-RDP-WinStationExtensions', 'UserAuthentication'),
    '1',
  );
  assert.equal(text('oobeSystem', 'Microsoft-Windows-International-Core', 'UILanguage'), 'fr-FR');
  const xml = renderUnattend(u);
  assert.match(xml, /<IpAddress wcm:action="add" wcm:keyValue="1">10\.0\.0\.5\/24<\/IpAddress>/);
  assert.match(xml, /<IpAddress wcm:action="add" wcm:keyValue="2">fd00::5\/64<\/IpAddress>/);
  assert.match(xml, /<Ipv6Settings>\s*<DhcpEnabled>false<\/DhcpEnabled>/);
  assert.match(xml, /<IpAddress wcm:action="add" wcm:keyValue="2">10\.0\.0\.3<\/IpAddress>/);
  assert.match(xml, /<FirewallGroup wcm:action="add" wcm:keyValue="RemoteDesktop">/);
  assert.match(xml, /<RunSynchronousCommand wcm:action="add">\s*<Order>1<\/Order>\s*<Path>reg add/);
  assert.match(xml, /<CommandLine>cmd \/c echo "a&lt;b" &amp; exit<\/CommandLine>/);
  assert.match(xml, /<Order>2<\/Order>/);
  assert.match(xml, /<MachineObjectOU>OU=Servers,DC=contoso,DC=com<\/MachineObjectOU>/);
});

test('KMS client keys by EditionID and build; Core editions share their key', () => {
  assert.equal(kmsClientKey('ServerStandard', 14393), 'WC2BQ-8NRM3-FDDYY-2BFGV-KHKQY');
  assert.equal(kmsClientKey('ServerDatacenterCor', 17763), 'WMDGN-G9PQG-XVVXX-R3X43-63DFG');
  assert.equal(kmsClientKey('ServerStandardCore', 20348), 'VDYBN-27WPP-V4HQT-9VMD4-VMK7H');
  assert.equal(kmsClientKey('ServerDatacenter', 26100), 'D764K-2NDRG-47T6Q-P8T8W-YP6DF');
  assert.equal(kmsClientKey('ServerTurbine', 20348), 'NTBV8-9K7Q8-V27C6-M2BTV-KHMXV');
  assert.equal(kmsClientKey('ServerDatacenter', 9600), undefined);
  assert.equal(kmsClientKey('Professional', 20348), undefined);
  assert.throws(() => unattendFromProfile({ productKey: 'kms' }), /needs the image edition and build/);
  assert.throws(
    () => unattendFromProfile({ productKey: 'kms', edition: 'Nope', build: 20348 }),
    /ServerStandard/,
  );
});

const USER_FILE = `<?xml version="1.0" encoding="utf-8"?>
<!-- written by hand -->
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="specialize">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">
      <ComputerName>OLD-NAME</ComputerName>
      <CopyProfile>true</CopyProfile>
    </component>
    <component name="Contoso-Custom-Thing" processorArchitecture="amd64" publicKeyToken="0000000000000000" language="neutral" versionScope="nonSxS">
      <Anything><Deep>kept</Deep></Anything>
    </component>
  </settings>
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">
      <OOBE><HideEULAPage>false</HideEULAPage></OOBE>
      <UserAccounts>
        <LocalAccounts>
          <LocalAccount wcm:action="add">
            <Password><Value>${encodeUnattendPassword('x', 'Password')}</Value><PlainText>false</PlainText></Password>
            <Name>keep-me</Name>
          </LocalAccount>
        </LocalAccounts>
      </UserAccounts>
    </component>
  </settings>
  <cpi:offlineImage cpi:source="wim:c:/install.wim#Windows Server 2022" xmlns:cpi="urn:schemas-microsoft-com:cpi" />
</unattend>
`;

test('merge: the profile wins where it sets something; the rest of the user file is kept', () => {
  const merged = renderUnattend(
    buildUnattend({ computerName: 'WS-01', adminPassword: 'pw' }, parseUnattend(USER_FILE)),
  );
  assert.match(merged, /<ComputerName>WS-01<\/ComputerName>/);
  assert.doesNotMatch(merged, /OLD-NAME/);
  assert.match(merged, /<CopyProfile>true<\/CopyProfile>/);
  assert.match(merged, /<Anything>\s*<Deep>kept<\/Deep>\s*<\/Anything>/);
  assert.match(merged, /<Name>keep-me<\/Name>/);
  assert.match(merged, /<AdministratorPassword>/);
  // The user's OOBE choice beats the defaults; only the missing default is added.
  assert.match(merged, /<HideEULAPage>false<\/HideEULAPage>/);
  assert.match(merged, /<SkipMachineOOBE>true<\/SkipMachineOOBE>/);
  assert.match(merged, /<cpi:offlineImage cpi:source="wim:c:\/install.wim#Windows Server 2022"/);
  assert.match(merged, /<!-- written by hand -->/);
  assert.equal(wellFormed(merged), true);
  // A list the profile sets replaces the user's list.
  const withAccounts = renderUnattend(
    mergeUnattend(
      parseUnattend(USER_FILE),
      unattendFromProfile({ localAccounts: [{ name: 'new', password: 'p' }] }),
    ),
  );
  assert.doesNotMatch(withAccounts, /keep-me/);
  assert.match(withAccounts, /<Name>new<\/Name>/);
});

test('parse → render → parse keeps a hand-written file; render is then stable', () => {
  const once = renderUnattend(parseUnattend(USER_FILE));
  assert.equal(renderUnattend(parseUnattend(once)), once);
  assert.deepEqual(parseUnattend(new TextEncoder().encode(once)), parseUnattend(once));
});

// Any text XML 1.0 can hold: whole graphemes, no C0 controls other than TAB, LF and CR.
function xmlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const n = s.charCodeAt(i);
    if (!(n === 9 || n === 10 || n === 13 || (n >= 0x20 && n !== 0xfffe && n !== 0xffff))) return false;
  }
  return true;
}
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter(xmlChars);
const profileArb: fc.Arbitrary<UnattendProfile> = fc.record(
  {
    computerName: fc.stringMatching(/^[A-Za-z0-9-]{1,15}$/),
    timeZone: text,
    locale: fc.oneof(text, fc.record({ input: text, system: text, ui: text, user: text })),
    adminPassword: text,
    organization: text,
    owner: text,
    autoLogon: fc.record({ username: text, password: text, count: fc.nat(99) }),
    localAccounts: fc.array(fc.record({ name: text, password: text }), { maxLength: 3 }),
    firstLogonCommands: fc.array(fc.record({ command: text, description: text }), { maxLength: 3 }),
    runSynchronous: fc.array(fc.record({ path: text }), { maxLength: 3 }),
    domainJoin: fc.record({ domain: text, username: text, password: text }),
    network: fc.record({
      interfaces: fc.array(
        fc.record({
          identifier: text,
          addresses: fc.array(
            fc.ipV4().map((a) => `${a}/24`),
            { maxLength: 2 },
          ),
          gateway: fc.ipV4(),
          dns: fc.array(fc.ipV4(), { maxLength: 2 }),
        }),
        { maxLength: 2 },
      ),
    }),
    rdp: fc.boolean(),
    productKey: text.filter((k) => k.toLowerCase() !== 'kms'),
    arch: fc.constantFrom('amd64', 'x86', 'arm64'),
  },
  { requiredKeys: [] },
);

test('property: render → parse → render is byte-stable, and the XML is well-formed', () => {
  fc.assert(
    fc.property(profileArb, (profile) => {
      const xml = renderUnattend(buildUnattend(profile));
      assert.equal(wellFormed(xml), true);
      assert.equal(renderUnattend(parseUnattend(xml)), xml);
    }),
    { numRuns: 300 },
  );
});

test('text XML cannot hold is refused, not written', () => {
  assert.throws(
    () => renderUnattend(buildUnattend({ computerName: 'a\u0001b' })),
    (e) => e instanceof FormatError && /U\+0001/.test(e.message),
  );
  assert.throws(() => renderUnattend(buildUnattend({ owner: '\ud800' })), /lone UTF-16 surrogate/);
  const crlf = renderUnattend(buildUnattend({ owner: 'a\r\nb\tc' }));
  assert.equal(renderUnattend(parseUnattend(crlf)), crlf);
});

test('property: encoded passwords decode back', () => {
  fc.assert(
    fc.property(
      fc.string(),
      fc.constantFrom('AdministratorPassword', 'Password'),
      (pw, kind: 'AdministratorPassword' | 'Password') => {
        assert.equal(decodeUnattendPassword(encodeUnattendPassword(pw, kind), kind), pw);
      },
    ),
  );
});

function withOobe(inner: string, pass = 'oobeSystem', arch = 'amd64'): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="${pass}">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="${arch}" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
${inner}
    </component>
  </settings>
</unattend>
`;
}

test('lint: a component in the wrong pass is an error on its line', () => {
  const xml = withOobe('      <TimeZone>UTC</TimeZone>', 'windowsPE');
  const findings = lintUnattend(xml);
  assert.deepEqual(findings, [
    {
      line: 4,
      severity: 'error',
      message:
        'component Microsoft-Windows-Shell-Setup is not valid in the windowsPE pass; Windows accepts it in offlineServicing, specialize, auditSystem, auditUser, oobeSystem',
    },
  ]);
});

test('lint: a setting in a pass its component allows but it does not is an error', () => {
  const [f] = lintUnattend(withOobe('      <ComputerName>X</ComputerName>'));
  assert.equal(f?.line, 5);
  assert.equal(f.severity, 'error');
  assert.match(
    f.message,
    /ComputerName is not valid in the oobeSystem pass; Windows accepts it in specialize/,
  );
});

test('lint: plain-text passwords are errors; an encoded one is not', () => {
  const plain = withOobe(
    '      <UserAccounts>\n        <AdministratorPassword>\n          <Value>secret</Value>\n          <PlainText>true</PlainText>\n        </AdministratorPassword>\n      </UserAccounts>',
  );
  const [f] = lintUnattend(plain);
  assert.equal(f?.severity, 'error');
  assert.equal(f.line, 6);
  assert.match(f.message, /AdministratorPassword is a plain-text password/);
  const missing = withOobe(
    '      <AutoLogon><Password><Value>secret</Value></Password><Username>a</Username></AutoLogon>',
  );
  assert.match(
    lintUnattend(missing)[0]?.message ?? '',
    /AutoLogon\/Password is a plain-text password \(no <PlainText>false/,
  );
  const notEncoded = withOobe(
    '      <AutoLogon><Password><Value>secret</Value><PlainText>false</PlainText></Password></AutoLogon>',
  );
  assert.match(lintUnattend(notEncoded)[0]?.message ?? '', /is not an encoded password/);
  const good = withOobe(
    `      <AutoLogon><Password><Value>${encodeUnattendPassword('s', 'Password')}</Value><PlainText>false</PlainText></Password></AutoLogon>`,
  );
  assert.deepEqual(lintUnattend(good), []);
});

test('lint: an empty encoded password is a warning (Windows reads a blank password); a bad one stays an error', () => {
  for (const value of ['<Value></Value>', '<Value/>', '<Value>  </Value>']) {
    const findings = lintUnattend(
      withOobe(
        `      <UserAccounts><AdministratorPassword>${value}<PlainText>false</PlainText></AdministratorPassword></UserAccounts>`,
      ),
    );
    assert.deepEqual(
      findings.map((f) => [f.severity, f.message]),
      [
        [
          'warning',
          'Microsoft-Windows-Shell-Setup/UserAccounts/AdministratorPassword/Value is empty: Windows takes it as a blank password',
        ],
      ],
      value,
    );
  }
  const emptyPlain = lintUnattend(
    withOobe('      <AutoLogon><Password><Value></Value><PlainText>true</PlainText></Password></AutoLogon>'),
  );
  assert.equal(emptyPlain[0]?.severity, 'error');
  const notEncoded = lintUnattend(
    withOobe(
      '      <AutoLogon><Password><Value>!!</Value><PlainText>false</PlainText></Password></AutoLogon>',
    ),
  );
  assert.equal(notEncoded[0]?.severity, 'error');
  assert.match(notEncoded[0].message, /is not an encoded password/);
});

test('lint: an unknown pass, an unknown setting, mixed architectures, bad XML', () => {
  const unknownPass = lintUnattend(withOobe('      <TimeZone>UTC</TimeZone>', 'firstBoot'));
  assert.deepEqual(
    unknownPass.map((f) => [f.line, f.severity]),
    [[3, 'error']],
  );
  assert.match(
    unknownPass[0]?.message ?? '',
    /unknown pass "firstBoot"; expected one of windowsPE, offlineServicing/,
  );
  const unknownSetting = lintUnattend(withOobe('      <TimeZon>UTC</TimeZon>'));
  assert.deepEqual(
    unknownSetting.map((f) => [f.line, f.severity]),
    [[5, 'warning']],
  );
  const mixed = renderUnattend(
    mergeUnattend(
      unattendFromProfile({ computerName: 'A' }),
      unattendFromProfile({ timeZone: 'UTC', arch: 'x86' }),
    ),
  );
  assert.match(
    lintUnattend(mixed)
      .map((f) => f.message)
      .join('\n'),
    /is for x86 but the file is for amd64/,
  );
  const forArm = lintUnattend(renderUnattend(unattendFromProfile({ computerName: 'A' })), { arch: 'arm64' });
  assert.deepEqual(
    forArm.map((f) => [f.line, f.message]),
    [[4, 'component Microsoft-Windows-Shell-Setup is for amd64 but the image is arm64; Windows skips it']],
  );
  const broken = lintUnattend(
    '<?xml version="1.0"?>\n<unattend xmlns="urn:schemas-microsoft-com:unattend">\n<settings pass="specialize">\n</unattend>\n',
  );
  assert.equal(broken[0]?.line, 4);
  assert.equal(broken[0].severity, 'error');
  assert.match(lintUnattend('<other/>')[0]?.message ?? '', /expected the root element <unattend>/);
  const laughs =
    '<?xml version="1.0"?>\n<!DOCTYPE unattend [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<unattend xmlns="urn:schemas-microsoft-com:unattend">&b;</unattend>';
  assert.deepEqual(lintUnattend(laughs), [
    {
      line: 2,
      severity: 'error',
      message: 'expected no <!DOCTYPE> in an answer file, found one (at offset 0x16)',
    },
  ]);
  const noWcm = withOobe(
    '      <FirstLogonCommands><SynchronousCommand wcm:action="add"><Order>1</Order><CommandLine>x</CommandLine></SynchronousCommand></FirstLogonCommands>',
  );
  assert.match(
    lintUnattend(noWcm)
      .map((f) => f.message)
      .join('\n'),
    /uses wcm: attributes without declaring xmlns:wcm/,
  );
  assert.match(lintUnattend(new Uint8Array([0xc3, 0x28]))[0]?.message ?? '', /expected UTF-8 or UTF-16LE/);
});

test('fuzz: arbitrary text gives an answer file or a FormatError; lint never throws', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.constantFrom(USER_FILE).chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))),
      ),
      (s) => {
        lintUnattend(s);
        try {
          parseUnattend(s);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      },
    ),
    { numRuns: 500 },
  );
});
