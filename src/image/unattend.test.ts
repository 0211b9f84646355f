import { test } from 'node:test';
import assert from 'node:assert/strict';
import { YamlInput } from '../config/yaml-input.ts';
import { AppError } from '../core/errors.ts';
import { readUnattendProfile, renderProfile } from './unattend.ts';

function read(text: string) {
  const y = YamlInput.parse(text, 'p.yaml');
  return readUnattendProfile(y, y.root);
}

test('every profile key reads into the profile', () => {
  const profile = read(`
computerName: '*'
timeZone: UTC
locale: { input: '0409:00000409', system: en-US, ui: en-US, user: en-GB }
adminPassword: 12345678
organization: Contoso
owner: IT
autoLogon: { username: Administrator, password: pw, count: 3, domain: CONTOSO }
localAccounts:
  - { name: ops, password: p1 }
  - { name: audit, password: p2, group: Users, displayName: Audit, description: read only }
firstLogonCommands: [ 'whoami', { command: hostname, description: name, requiresUserInput: false } ]
runSynchronous: [ 'cmd /c exit 0', { path: 'reg add X', willReboot: Never } ]
domainJoin: { domain: contoso.com, username: joiner, password: j, credentialsDomain: CONTOSO, ou: 'OU=S,DC=contoso,DC=com' }
network:
  dnsDomain: contoso.com
  interfaces:
    - { identifier: 00-15-5D-01-02-03, addresses: 10.0.0.5/24, gateway: 10.0.0.1, dns: 10.0.0.2 }
    - { identifier: Ethernet 2, addresses: [ 'fd00::5/64' ], gateway: 'fd00::1' }
rdp: false
productKey: kms
edition: ServerStandardCore
build: 17763
oobe: { hideEulaPage: true, skipMachineOobe: false, skipUserOobe: true, protectYourPC: 3 }
arch: arm64
`);
  assert.deepEqual(profile, {
    computerName: '*',
    timeZone: 'UTC',
    locale: { input: '0409:00000409', system: 'en-US', ui: 'en-US', user: 'en-GB' },
    adminPassword: '12345678',
    organization: 'Contoso',
    owner: 'IT',
    autoLogon: { username: 'Administrator', password: 'pw', count: 3, domain: 'CONTOSO' },
    localAccounts: [
      { name: 'ops', password: 'p1' },
      { name: 'audit', password: 'p2', group: 'Users', displayName: 'Audit', description: 'read only' },
    ],
    firstLogonCommands: [
      { command: 'whoami' },
      { command: 'hostname', description: 'name', requiresUserInput: false },
    ],
    runSynchronous: [{ path: 'cmd /c exit 0' }, { path: 'reg add X', willReboot: 'Never' }],
    domainJoin: {
      domain: 'contoso.com',
      username: 'joiner',
      password: 'j',
      credentialsDomain: 'CONTOSO',
      ou: 'OU=S,DC=contoso,DC=com',
    },
    network: {
      dnsDomain: 'contoso.com',
      interfaces: [
        {
          identifier: '00-15-5D-01-02-03',
          addresses: ['10.0.0.5/24'],
          gateway: '10.0.0.1',
          dns: ['10.0.0.2'],
        },
        { identifier: 'Ethernet 2', addresses: ['fd00::5/64'], gateway: 'fd00::1' },
      ],
    },
    rdp: false,
    productKey: 'kms',
    edition: 'ServerStandardCore',
    build: 17763,
    oobe: { hideEulaPage: true, skipMachineOobe: false, skipUserOobe: true, protectYourPC: 3 },
    arch: 'arm64',
  });
  const { xml, warnings } = renderProfile(profile);
  assert.match(xml, /<ProductKey>N69G4-B89J2-4G8F4-WWYCC-J464C<\/ProductKey>/);
  assert.match(xml, /processorArchitecture="arm64"/);
  assert.match(xml, /<fDenyTSConnections>true<\/fDenyTSConnections>/);
  assert.doesNotMatch(xml, /FirewallGroups/);
  assert.match(xml, /<SkipMachineOOBE>false<\/SkipMachineOOBE>/);
  assert.deepEqual(
    warnings.map((w) => w.severity),
    ['warning'],
  );
});

test('an empty profile is an empty mapping error; an empty mapping renders the defaults only', () => {
  assert.throws(
    () => read(''),
    (e) => e instanceof AppError && /p\.yaml:1:1: the unattend profile must be a mapping/.test(e.message),
  );
  const { xml } = renderProfile(read('{}'));
  assert.match(xml, /<HideEULAPage>true<\/HideEULAPage>/);
});

test('values of the wrong kind are named with their place', () => {
  const cases: [string, RegExp][] = [
    ['locale: fr_FR\n', /p\.yaml:1:9: locale must be a language tag like fr-FR/],
    ['locale: { input: a, system: b }\n', /p\.yaml:1:9: locale needs ui/],
    [
      'autoLogon: { username: a, password: b, count: 0 }\n',
      /p\.yaml:1:47: autoLogon\.count must be a whole number from 1 to 999/,
    ],
    ['firstLogonCommands: [ { description: x } ]\n', /p\.yaml:1:23: firstLogonCommands\[0\] needs command/],
    [
      'runSynchronous: [ { path: x, willReboot: Sometimes } ]\n',
      /p\.yaml:1:42: runSynchronous\[0\]\.willReboot must be one of Always, Never, OnRequest/,
    ],
    [
      'network: { interfaces: [ { identifier: e, gateway: 10.0.0.1/24 } ] }\n',
      /p\.yaml:1:52: network\.interfaces\[0\]\.gateway must be an IPv4 or IPv6 address \(10\.0\.0\.1\)/,
    ],
    ['productKey: ABCDE-12345\n', /p\.yaml:1:13: productKey must be kms or a key/],
    ['arch: wow64\n', /p\.yaml:1:7: arch must be one of amd64, x86, arm64/],
    ['oobe: { protectYourPC: 4 }\n', /p\.yaml:1:24: oobe\.protectYourPC must be a whole number from 1 to 3/],
    [
      'computerName: 12345\n',
      /p\.yaml:1:15: computerName must be 1 to 15 letters, digits or hyphens, not only digits/,
    ],
    ['owner: ""\n', /p\.yaml:1:8: owner must not be empty/],
  ];
  for (const [text, message] of cases)
    assert.throws(
      () => read(text),
      (e) => e instanceof AppError && message.test(e.message),
      text,
    );
});
