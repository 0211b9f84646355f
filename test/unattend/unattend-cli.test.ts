// `winsmith unattend render` and `winsmith unattend lint` run as a user runs them.

import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import { isCleanFailure, runWinsmith } from '../helpers/cli.ts';

const PROFILE = `# a server on a static address, RDP on, KMS key of Datacenter 2022
computerName: WS-01
timeZone: W. Europe Standard Time
locale: fr-FR
adminPassword: 'S3cret!pass'
organization: Contoso
rdp: true
productKey: kms
edition: ServerDatacenter
build: 20348
autoLogon: { username: Administrator, password: 'S3cret!pass', count: 1 }
firstLogonCommands:
  - powershell -NoProfile -Command "Write-Output ready"
  - { command: 'cmd /c echo done', description: second }
domainJoin: { domain: contoso.com, username: joiner, password: 'j0in!', ou: 'OU=Servers,DC=contoso,DC=com' }
network:
  dnsDomain: contoso.com
  interfaces:
    - identifier: Ethernet
      addresses: [10.0.0.5/24]
      gateway: 10.0.0.1
      dns: [10.0.0.2, 10.0.0.3]
`;

const WRONG_PASS = `<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-UnattendedJoin" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <Identification><JoinWorkgroup>WG</JoinWorkgroup></Identification>
    </component>
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <UserAccounts>
        <AdministratorPassword>
          <Value>plain</Value>
          <PlainText>true</PlainText>
        </AdministratorPassword>
      </UserAccounts>
    </component>
  </settings>
  <settings pass="firstBoot" />
</unattend>
`;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-unattend-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Each test runs the CLI a few times in its own directory: they run side by side.
suite('unattend commands', { concurrency: true }, () => {
  test(
    'render writes an answer file that lint passes, with encoded passwords',
    { concurrency: true },
    async () => {
      await withDir(async (dir) => {
        const profile = join(dir, 'profile.yaml');
        const out = join(dir, 'unattend.xml');
        await writeFile(profile, PROFILE);
        const render = await runWinsmith(['unattend', 'render', profile, '-o', out]);
        assert.equal(render.code, 0, render.stderr);
        assert.deepEqual(render.stdout.trim().split('\n'), [
          `wrote ${out}`,
          `${out}:14: warning: Microsoft-Windows-UnattendedJoin/Identification/Credentials/Password is in clear text: Windows has no encoded form for it; use an account that may only join computers, or an offline domain join`,
        ]);
        const xml = await readFile(out, 'utf8');
        assert.ok(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n'));
        assert.ok(!xml.includes('S3cret!pass'));
        assert.ok(
          xml.includes(Buffer.from('S3cret!passAdministratorPassword', 'utf16le').toString('base64')),
        );
        assert.match(xml, /<ProductKey>WX4NM-KYWYW-QJJR4-XV3QB-6VM33<\/ProductKey>/);
        const lint = await runWinsmith(['unattend', 'lint', out, '--json']);
        // The domain join password has no encoded form in Windows: a warning, not an error.
        const report = JSON.parse(lint.stdout) as {
          errors: number;
          warnings: number;
          findings: { message: string }[];
        };
        assert.equal(lint.code, 0, lint.stderr);
        assert.equal(report.errors, 0);
        assert.equal(report.warnings, 1);
        assert.match(
          report.findings[0]?.message ?? '',
          /UnattendedJoin\/Identification\/Credentials\/Password is in clear text/,
        );
        // Refuses to replace the output without --force, and leaves it as it was.
        const again = await runWinsmith(['unattend', 'render', profile, '-o', out]);
        assert.ok(isCleanFailure(again), again.stderr);
        assert.match(again.stderr, /already exists/);
      });
    },
  );

  test('render without -o prints the XML; --merge keeps the rest of the file', async () => {
    await withDir(async (dir) => {
      const profile = join(dir, 'p.yaml');
      const base = join(dir, 'base.xml');
      await writeFile(profile, 'computerName: NEW-NAME\n');
      await writeFile(
        base,
        `<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="specialize">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <ComputerName>OLD-NAME</ComputerName>
      <CopyProfile>true</CopyProfile>
    </component>
  </settings>
</unattend>
`,
      );
      const run = await runWinsmith(['unattend', 'render', profile, '--merge', base]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /<ComputerName>NEW-NAME<\/ComputerName>/);
      assert.match(run.stdout, /<CopyProfile>true<\/CopyProfile>/);
      assert.doesNotMatch(run.stdout, /OLD-NAME/);
    });
  });

  test('lint: a component in the wrong pass, a plain-text password, an unknown pass: one line each, exit 1', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'bad.xml');
      await writeFile(file, WRONG_PASS);
      const run = await runWinsmith(['unattend', 'lint', file]);
      assert.equal(run.code, 1);
      assert.equal(run.stderr, '');
      const lines = run.stdout.trim().split('\n');
      assert.deepEqual(
        lines.map((l) => l.split(': ').slice(0, 2).join(': ')),
        [`${file}:4: error`, `${file}:9: error`, `${file}:16: error`],
      );
      assert.match(
        lines[0] ?? '',
        /component Microsoft-Windows-UnattendedJoin is not valid in the oobeSystem pass; Windows accepts it in specialize/,
      );
      assert.match(lines[1] ?? '', /AdministratorPassword is a plain-text password/);
      assert.match(lines[2] ?? '', /unknown pass "firstBoot"/);
      const forX86 = await runWinsmith(['unattend', 'lint', file, '--arch', 'x86', '--json']);
      const report = JSON.parse(forX86.stdout) as { errors: number; findings: { message: string }[] };
      assert.equal(forX86.code, 1);
      assert.equal(report.errors, 5);
      assert.match(report.findings[1]?.message ?? '', /is for amd64 but the image is x86/);
      const badArch = await runWinsmith(['unattend', 'lint', file, '--arch', 'mips']);
      assert.ok(isCleanFailure(badArch), badArch.stderr);
    });
  });

  test('lint: an empty encoded password is a warning and the exit status stays 0', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'blank.xml');
      await writeFile(
        file,
        WRONG_PASS.replace('<Value>plain</Value>', '<Value></Value>')
          .replace('<PlainText>true</PlainText>', '<PlainText>false</PlainText>')
          .replace(/<component name="Microsoft-Windows-UnattendedJoin"[\s\S]*?<\/component>\n {4}/, '')
          .replace('  <settings pass="firstBoot" />\n', ''),
      );
      const run = await runWinsmith(['unattend', 'lint', file]);
      assert.equal(run.code, 0, run.stdout);
      assert.equal(
        run.stdout.trim(),
        `${file}:7: warning: Microsoft-Windows-Shell-Setup/UserAccounts/AdministratorPassword/Value is empty: Windows takes it as a blank password`,
      );
    });
  });

  test('lint: a file that is not XML is one error with its line; a missing file is a clean failure', async () => {
    await withDir(async (dir) => {
      const file = join(dir, 'broken.xml');
      await writeFile(
        file,
        '<unattend xmlns="urn:schemas-microsoft-com:unattend">\n  <settings pass="specialize">\n</unattend>\n',
      );
      const run = await runWinsmith(['unattend', 'lint', file]);
      assert.equal(run.code, 1);
      assert.match(
        run.stdout,
        new RegExp(`^${file.replaceAll('/', '\\/')}:3: error: XML is not well-formed`),
      );
      const missing = await runWinsmith(['unattend', 'lint', join(dir, 'nope.xml')]);
      assert.ok(isCleanFailure(missing), missing.stderr);
      assert.match(missing.stderr, /does not exist/);
    });
  });

  test('bad profiles: the error names file:line:column and what was expected; nothing is written', async () => {
    await withDir(async (dir) => {
      const out = join(dir, 'unattend.xml');
      const cases: [string, RegExp][] = [
        [
          'computerName: WS-01\ntimeZon: UTC\n',
          /p\.yaml:2:1: unknown key 'timeZon' in the unattend profile — expected one of computerName, timeZone/,
        ],
        ['computerName: this-name-is-far-too-long\n', /p\.yaml:1:15: computerName must be 1 to 15 letters/],
        [
          'network:\n  interfaces:\n    - identifier: E\n      addresses: [10.0.0.300/24]\n',
          /p\.yaml:4:19: network\.interfaces\[0\]\.addresses\[0\] must be an IPv4 or IPv6 address/,
        ],
        ['autoLogon: { username: a }\n', /p\.yaml:1:12: autoLogon needs password/],
        ['rdp: yes please\n', /p\.yaml:1:6: rdp must be true or false/],
        ['productKey: kms\n', /p\.yaml:1:13: productKey: kms needs edition/],
        [
          'productKey: kms\nedition: Nope\nbuild: 20348\n',
          /no public KMS client key for edition Nope on build 20348/,
        ],
        ['- a list\n', /p\.yaml:1:1: the unattend profile must be a mapping/],
        ['computerName: [unclosed\n', /p\.yaml:2:1: /],
      ];
      await Promise.all(
        cases.map(async ([text, message], n) => {
          const sub = join(dir, String(n));
          await writeFile(`${sub}-p.yaml`, text);
          const run = await runWinsmith(['unattend', 'render', `${sub}-p.yaml`, '-o', out]);
          assert.ok(isCleanFailure(run), `${text}: ${run.stderr}`);
          assert.match(run.stderr, message);
        }),
      );
      assert.equal(existsSync(out), false);
    });
  });
});
