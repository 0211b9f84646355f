import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../core/errors.ts';
import { keepProfileSecrets, parseProfile, PROFILE_SECRET_MASK, redactProfile } from './profile.ts';

const FULL = `name: web
image: team-a/ws2022:v1
edition: 2
firmware: uefi
disk: { size: '>= 40G', transport: virtio }
layout:
  partitions:
    - { role: esp, size: 300M }
    - { role: msr, size: 16M }
    - { role: windows, size: rest }
computerName: WEB-{serial}
adminPassword: generate
productKey: kms
network:
  dnsDomain: contoso.com
  static:
    web-01: { addresses: [10.0.0.11/24], gateway: 10.0.0.1, dns: [10.0.0.2, 10.0.0.3] }
    52-54-00-00-00-0A: { addresses: 10.0.0.12/24 }
unattend:
  timeZone: UTC
  locale: en-US
  domainJoin: { domain: contoso.com, username: joiner, password: 'J0in!pass' }
finish: poweroff
uefiChain: shim
`;

test('a whole profile reads into its parts', () => {
  const p = parseProfile(FULL, 'web.yaml');
  assert.deepEqual(p.image, { ref: { name: 'team-a/ws2022', tag: 'v1' } });
  assert.deepEqual(
    [p.name, p.edition, p.firmware, p.finish, p.uefiChain],
    ['web', 2, 'uefi', 'poweroff', 'shim'],
  );
  assert.deepEqual(p.disk, { size: '>= 40G', transport: 'virtio' });
  assert.deepEqual(
    p.layout?.partitions.map((x) => x.role),
    ['esp', 'msr', 'windows'],
  );
  assert.deepEqual(
    [p.computerName, p.adminPassword, p.productKey, p.dnsDomain],
    ['WEB-{serial}', 'generate', 'kms', 'contoso.com'],
  );
  assert.deepEqual(Object.keys(p.staticAddresses), ['web-01', '52:54:00:00:00:0a']);
  assert.deepEqual(p.staticAddresses['52:54:00:00:00:0a'], { addresses: ['10.0.0.12/24'] });
  assert.equal(p.unattend.timeZone, 'UTC');
  assert.equal(p.unattend.domainJoin?.password, 'J0in!pass');
});

test('the smallest profile: a name and an image; the rest takes its defaults', () => {
  const digest = 'ab'.repeat(32);
  const p = parseProfile(`name: lab\nimage: sha256:${digest}\n`, 'lab.yaml');
  assert.deepEqual(p.image, { digest });
  assert.deepEqual(
    [p.edition, p.firmware, p.finish, p.layout, p.computerName, p.adminPassword, p.uefiChain],
    [1, 'auto', 'reboot', null, null, null, 'auto'],
  );
  assert.deepEqual(p.disk, {});
});

test('each mistake is named by file, line and column, with what was expected', () => {
  const cases: [string, RegExp][] = [
    ['name: web\nimage: a:v1\nimgae: x\n', /^p\.yaml:3:1: unknown key 'imgae'/],
    ['name: web\nimage: Not Valid\n', /^p\.yaml:2:8: image must be NAME:TAG or a manifest digest/],
    ['name: Web!\nimage: a:v1\n', /^p\.yaml:1:7: profile name 'Web!'/],
    ['image: a:v1\n', /^p\.yaml:1:1: the profile has no name/],
    ['name: web\nimage: a:v1\ncomputerName: WEB-{model}\n', /^p\.yaml:3:15: computerName has \{model\}/],
    [
      'name: web\nimage: a:v1\ncomputerName: WEB_{name}\n',
      /^p\.yaml:3:15: computerName 'WEB_\{name\}' has characters/,
    ],
    ['name: web\nimage: a:v1\nedition: 0\n', /^p\.yaml:3:10: edition must be an image index/],
    ['name: web\nimage: a:v1\nfirmware: efi\n', /^p\.yaml:3:11: firmware must be auto, uefi, bios/],
    [
      'name: web\nimage: a:v1\nuefiChain: grub\n',
      /^p\.yaml:3:12: uefiChain must be auto, shim, ipxe, found 'grub'/,
    ],
    ['name: web\nimage: a:v1\ndisk: { colour: red }\n', /^p\.yaml:3:7: disk: Unrecognized key/],
    ['name: web\nimage: a:v1\ndisk: { size: big }\n', /^p\.yaml:3:7: disk\.size 'big' is not a size/],
    ['name: web\nimage: a:v1\nproductKey: ABC\n', /^p\.yaml:3:13: productKey must be kms/],
    [
      'name: web\nimage: a:v1\nunattend:\n  computerName: X\n',
      /^p\.yaml:4:3: computerName is set per machine/,
    ],
    ['name: web\nimage: a:v1\nunattend:\n  timeZon: UTC\n', /^p\.yaml:4:3: unknown key 'timeZon'/],
    [
      'name: web\nimage: a:v1\nnetwork: { static: { web-01: { addresses: [10.0.0.1] } } }\n',
      /^p\.yaml:3:44: network\.static\.web-01\.addresses '10\.0\.0\.1' is not an address with its prefix/,
    ],
    [
      'name: web\nimage: a:v1\nnetwork: { static: { web-01: { gateway: 10.0.0.1 } } }\n',
      /^p\.yaml:3:30: network\.static\.web-01 needs addresses/,
    ],
    [
      'name: web\nimage: a:v1\nfirmware: bios\nlayout: { firmware: uefi, partitions: [{ role: esp, size: 300M }, { role: windows }] }\n',
      /^p\.yaml:4:21: the layout is for uefi, the profile asks for bios/,
    ],
    [
      'name: web\nimage: a:v1\nlayout: { partitions: [{ role: esp, size: 300M }, { role: windows }] }\n',
      /^p\.yaml:3:9: the layout says no firmware/,
    ],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => parseProfile(text, 'p.yaml'),
      (e: unknown) => e instanceof AppError && expected.test(e.message),
      `${text} should fail with ${String(expected)}`,
    );
  }
});

test('a disk size is taken in every spelling the agent matches disks with', () => {
  for (const size of ['== 120GiB', '>=100G', ' 2T ', '< 500 G']) {
    const p = parseProfile(`name: web\nimage: a:v1\ndisk: { size: '${size}' }\n`, 'p.yaml');
    assert.equal(p.disk.size, size);
  }
});

const STEPS = `name: web
image: a:v1
customize:
  - files: { add: [ { src: 'files\\motd.txt', dest: 'Windows\\motd.txt' }, { content: hi, dest: x.txt } ] }
  - registry: { import: [ ./reg//settings.reg ] }
  - drivers: [ drivers/viostor ]
  - firstboot: [ { cmd: 'echo 1' }, { powershell: { file: scripts/first.ps1 } } ]
  - features: [ Web-Server ]
`;

test('customize: the steps of a recipe, their paths relative to the deployment share', () => {
  const p = parseProfile(STEPS, 'p.yaml');
  assert.deepEqual(
    p.customize.map((s) => s.kind),
    ['files', 'registry', 'drivers', 'firstboot', 'features'],
  );
  const [files, registry, drivers, firstboot] = p.customize;
  assert.deepEqual(
    files?.kind === 'files' ? files.add.map((a) => (a.from === 'host' ? a.src : a.content)) : [],
    ['files/motd.txt', 'hi'],
  );
  assert.equal(registry?.kind === 'registry' ? registry.import[0]?.file : '', 'reg/settings.reg');
  assert.deepEqual(drivers?.kind === 'drivers' ? drivers.folders[0] : null, {
    dir: 'drivers/viostor',
    where: 'p.yaml:6:16',
  });
  assert.equal(firstboot?.kind === 'firstboot' ? firstboot.scripts[1]?.file : '', 'scripts/first.ps1');
  assert.deepEqual(parseProfile('name: web\nimage: a:v1\n', 'p.yaml').customize, []);
});

test('customize: unattend and metadata are refused saying why; share paths that leave the share are refused', () => {
  const cases: [string, RegExp][] = [
    [
      '  - unattend: { timeZone: UTC }',
      /^p\.yaml:4:5: unattend is not a step of a profile's customize: the profile's unattend: key/,
    ],
    [
      '  - metadata: { name: X }',
      /^p\.yaml:4:5: metadata is not a step of a profile's customize: it sets a WIM image's properties/,
    ],
    [
      '  - fiels: []',
      /^p\.yaml:4:5: unknown step 'fiels' — expected one of files, registry, drivers, firstboot, features$/,
    ],
    [
      '  - drivers: [ ../drivers ]',
      /^p\.yaml:4:16: a driver folder '\.\.\/drivers' must stay inside the deployment share, found '\.\.'/,
    ],
    ['  - drivers: [ "a\\\\..\\\\..\\\\b" ]', /^p\.yaml:4:16: a driver folder .* found '\.\.'/],
    [
      '  - drivers: [ /srv/drivers ]',
      /^p\.yaml:4:16: a driver folder '\/srv\/drivers' must be relative to the deployment share, found an absolute path/,
    ],
    [
      "  - registry: { import: [ 'C:\\x.reg' ] }",
      /^p\.yaml:4:27: a \.reg file 'C:\\x\.reg' must be relative to the deployment share/,
    ],
    [
      "  - firstboot: [ { cmd: { file: '\\\\\\\\srv\\\\s\\\\x.cmd' } } ]",
      /^p\.yaml:4:33: file .* must be relative to the deployment share/,
    ],
    [
      '  - files: { add: [ { src: ./, dest: x } ] }',
      /^p\.yaml:4:28: src '\.\/' names no file or folder of the deployment share/,
    ],
  ];
  for (const [step, expected] of cases) {
    const text = `name: web\nimage: a:v1\ncustomize:\n${step}\n`;
    assert.throws(
      () => parseProfile(text, 'p.yaml'),
      (e: unknown) => e instanceof AppError && expected.test(e.message),
      `${step} should fail with ${String(expected)}`,
    );
  }
});

test('a profile shown masked and edited keeps its stored passwords where the mask is left', () => {
  const stored = FULL.replace('adminPassword: generate', 'adminPassword: \'Adm1n "pass"\'');
  const shown = redactProfile(stored);
  assert.ok(!shown.includes('Adm1n') && !shown.includes('J0in!pass'), shown);
  assert.equal(shown.split(PROFILE_SECRET_MASK).length - 1, 2);

  const edited = shown.replace('timeZone: UTC', 'timeZone: W. Europe Standard Time');
  const kept = keepProfileSecrets(edited, stored, 'web.yaml');
  assert.equal(kept.split('\n').length, edited.split('\n').length, 'the lines of the edit');
  const profile = parseProfile(kept, 'web.yaml');
  assert.deepEqual(profile.adminPassword, { value: 'Adm1n "pass"' });
  assert.equal(profile.unattend.domainJoin?.password, 'J0in!pass');
  assert.equal(profile.unattend.timeZone, 'W. Europe Standard Time');

  // A password written out replaces the stored one; text without a mask is left as it is.
  const given = edited.replace(/adminPassword: (["'])\*{8}\1/, 'adminPassword: N3w-pass');
  assert.deepEqual(parseProfile(keepProfileSecrets(given, stored, 'web.yaml'), 'web.yaml').adminPassword, {
    value: 'N3w-pass',
  });
  assert.equal(keepProfileSecrets(FULL, null, 'web.yaml'), FULL);
});

test('a mask where the stored profile has no password is refused at its line and column', () => {
  const edited = FULL.replace('adminPassword: generate', `adminPassword: '${PROFILE_SECRET_MASK}'`);
  assert.throws(
    () => keepProfileSecrets(edited, FULL, 'web.yaml'),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'FORMAT_INVALID' &&
      /^web\.yaml:12:16: adminPassword is \*{8}, which keeps the stored password, and the stored profile has no password there/.test(
        e.message,
      ),
  );
  assert.throws(() => keepProfileSecrets(edited, null, 'web.yaml'), /web\.yaml:12:16/);
});
