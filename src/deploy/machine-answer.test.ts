import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../core/errors.ts';
import { renderProfile } from '../image/unattend.ts';
import { expandComputerName, generateAdminPassword, machineUnattendProfile } from './machine-answer.ts';
import { parseProfile } from './profile.ts';

const machine = {
  name: 'web-01',
  mac: '52:54:00:ab:cd:ef',
  serial: 'VMw are-42 #7',
  smbiosUuid: '0f3e7c2a-1111-2222-3333-444455556666',
};

const isInvalid = (pattern: RegExp) => (e: unknown) =>
  e instanceof AppError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message);

test('computer name patterns take the machine’s name, serial, MAC and UUID', () => {
  assert.equal(expandComputerName('{name}', machine), 'web-01');
  assert.equal(expandComputerName('WEB-{mac6}', machine), 'WEB-ABCDEF');
  assert.equal(expandComputerName('{mac}', machine), '525400ABCDEF');
  assert.equal(expandComputerName('S{uuid8}', machine), 'S0F3E7C2A');
  assert.equal(expandComputerName('X-{serial}', machine), 'X-VMware-427');
  assert.throws(() => expandComputerName('{name}', { ...machine, name: null }), isInvalid(/needs \{name\}/));
  assert.throws(() => expandComputerName('LONG-{mac}-X', machine), isInvalid(/gives 'LONG-525400ABCDEF-X'/));
  assert.throws(
    () => expandComputerName('{mac6}', { ...machine, mac: '52:54:00:11:22:33' }),
    isInvalid(/not only digits/),
  );
});

test('generated passwords meet Windows’ complexity rule and differ', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const p = generateAdminPassword();
    assert.equal(p.length, 20);
    assert.match(p, /[A-Z]/);
    assert.match(p, /[a-z]/);
    assert.match(p, /[0-9]/);
    assert.match(p, /[!#%+=?@-]/);
    seen.add(p);
  }
  assert.equal(seen.size, 200);
});

const PROFILE = `name: web
image: team-a/ws2022:v1
computerName: WEB-{mac6}
adminPassword: generate
productKey: kms
network:
  dnsDomain: contoso.com
  static:
    web-01: { addresses: [10.0.0.11/24], gateway: 10.0.0.1, dns: [10.0.0.2] }
unattend: { timeZone: UTC }
`;

const standard2022 = { editionId: 'ServerStandard', build: 20348, arch: 'amd64' as const };

test('a profile becomes one machine’s answer file: name, password, KMS key, its static address', () => {
  const profile = parseProfile(PROFILE, 'web.yaml');
  const settings = machineUnattendProfile(profile, machine, standard2022, 'Pa55word!Pa55word!');
  const { xml } = renderProfile(settings, undefined, 'test');
  assert.match(xml, /<ComputerName>WEB-ABCDEF<\/ComputerName>/);
  assert.match(xml, /VDYBN-27WPP-V4HQT-9VMD4-VMK7H/);
  assert.match(xml, /10\.0\.0\.11\/24/);
  assert.match(xml, /52-54-00-AB-CD-EF/);
  assert.match(xml, /contoso\.com/);
  const other = machineUnattendProfile(profile, { ...machine, name: 'web-02' }, standard2022, null);
  assert.equal(other.network?.interfaces, undefined, 'a machine the table does not name uses DHCP');
  assert.equal(other.adminPassword, undefined);
  assert.throws(
    () => machineUnattendProfile(profile, machine, { ...standard2022, build: 9600 }, null),
    isInvalid(/no KMS client key for edition ServerStandard build 9600/),
  );
});

test('any machine facts give a valid name or one clear error', () => {
  fc.assert(
    fc.property(
      fc.record({
        name: fc.option(fc.string({ unit: 'binary' })),
        mac: fc.constant('52:54:00:ab:cd:ef'),
        serial: fc.option(fc.string({ unit: 'binary' })),
        smbiosUuid: fc.constant(null),
      }),
      fc.constantFrom('{name}', '{serial}', 'S-{serial}', '{mac6}{name}'),
      (facts, pattern) => {
        try {
          assert.match(expandComputerName(pattern, facts), /^[A-Za-z0-9-]{1,15}$/);
        } catch (e) {
          assert.ok(e instanceof AppError && e.code === 'INVALID_ARGUMENT', String(e));
        }
      },
    ),
  );
});
