import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { GiB } from '../image/disk/size.ts';
import { DEFAULT_TIMEOUTS, parseBuildRecipe } from './build-recipe.ts';

const SHA = 'ab'.repeat(32);

const FULL = `source:
  iso: ./server-2022.iso
  sha256: ${SHA}
  edition: ServerDatacenter
  locale: fr-FR
vm:
  cpus: 4
  memory: 8G
  disk: 80G
  firmware: bios
  tpm: true
  media: [./virtio-win.iso]
  timeouts: { install: 90m, provision: 5h }
provision:
  - powershell: Set-ItemProperty HKLM:\\Software\\X -Name Y -Value 1
  - files:
      - { src: ./tools/agent.msi, dest: 'C:\\Tools' }
  - features: [Web-Server, NET-Framework-45-Core]
  - packages: [./kb5000001.msu]
  - windowsUpdate: { maxRounds: 3 }
  - restart: true
generalize:
  vmMode: true
  copyProfile: true
customize:
  - features: [Telnet-Client]
output:
  tag: lab/ws2022:2026-12
  disk: ./ws2022.qcow2
`;

function parse(text: string): ReturnType<typeof parseBuildRecipe> {
  return parseBuildRecipe(text, 'build.yaml', '/recipes');
}

function refused(text: string, where: RegExp, message: RegExp): void {
  assert.throws(
    () => parse(text),
    (e: Error) => {
      assert.match(e.message, where);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('build recipes', () => {
  test('every section is read, host paths relative to the recipe', () => {
    const r = parse(FULL);
    assert.deepEqual(r.source, {
      kind: 'iso',
      iso: '/recipes/server-2022.iso',
      sha256: SHA,
      edition: 'ServerDatacenter',
      productKey: 'kms',
      locale: 'fr-FR',
      timeZone: 'UTC',
    });
    assert.equal(r.vm.cpus, 4);
    assert.equal(r.vm.memoryBytes, 8 * GiB);
    assert.equal(r.vm.diskBytes, 80 * GiB);
    assert.equal(r.vm.firmware, 'bios');
    assert.equal(r.vm.tpm, true);
    assert.deepEqual(r.vm.media, ['/recipes/virtio-win.iso']);
    assert.deepEqual(r.vm.timeouts, { ...DEFAULT_TIMEOUTS, install: 5400, provision: 18000 });
    assert.deepEqual(
      r.provision.map((s) => s.kind),
      ['powershell', 'files', 'features', 'packages', 'windowsUpdate', 'restart'],
    );
    const files = r.provision[1];
    assert.ok(files?.kind === 'files');
    assert.deepEqual(files.copies[0]?.src, '/recipes/tools/agent.msi');
    const updates = r.provision[4];
    assert.ok(updates?.kind === 'windowsUpdate');
    assert.equal(updates.maxRounds, 3);
    assert.equal(r.provision[0]?.where, 'build.yaml:15:5');
    assert.deepEqual(r.generalize, { vmMode: true, copyProfile: true, unattend: null });
    assert.deepEqual(
      r.customize.map((s) => s.kind),
      ['features'],
    );
    assert.deepEqual(r.output, {
      tag: { name: 'lab/ws2022', tag: '2026-12' },
      disk: '/recipes/ws2022.qcow2',
    });
    assert.match(r.sha256, /^[0-9a-f]{64}$/);
  });

  test('defaults: a 2-CPU, 4 GiB, 64 GiB UEFI VM, the KMS key, en-US, UTC', () => {
    const r = parse(`source: { iso: a.iso, sha256: ${SHA}, edition: 2 }\noutput: { tag: a/b:c }\n`);
    assert.equal(r.vm.cpus, 2);
    assert.equal(r.vm.memoryBytes, 4 * GiB);
    assert.equal(r.vm.diskBytes, 64 * GiB);
    assert.equal(r.vm.firmware, 'uefi');
    assert.ok(r.source.kind === 'iso');
    assert.equal(r.source.edition, 2);
    assert.equal(r.source.productKey, 'kms');
    assert.deepEqual(r.provision, []);
  });

  test('servicing: a repository image as the source', () => {
    const r = parse('source: { image: lab/ws2022:v1, edition: 1 }\noutput: { tag: lab/ws2022:v2 }\n');
    assert.deepEqual(r.source, {
      kind: 'image',
      image: { name: 'lab/ws2022', tag: 'v1' },
      edition: 1,
      locale: 'en-US',
      timeZone: 'UTC',
    });
  });

  test('mistakes are refused at their line and column, saying what was expected', () => {
    const base = `source: { iso: a.iso, sha256: ${SHA}, edition: 1 }\noutput: { tag: a/b:c }\n`;
    refused('output: { tag: a/b:c }\n', /build\.yaml:1:1/, /no source: section/);
    refused(`source: { iso: a.iso, edition: 1 }\noutput: { tag: a/b:c }\n`, /1:9/, /needs its sha256/);
    refused(
      `source: { iso: a.iso, sha256: abc, edition: 1 }\noutput: { tag: a/b:c }\n`,
      /1:31/,
      /64 hexadecimal/,
    );
    refused(
      `source: { iso: a.iso, image: a/b:c, sha256: ${SHA}, edition: 1 }\noutput: { tag: a/b:c }\n`,
      /1:9/,
      /exactly one of iso/,
    );
    refused(`${base}vm: { memory: 1G }\n`, /3:15/, /at least 2 GiB/);
    refused(`${base}vm: { disk: 20G }\n`, /3:13/, /at least 32 GiB/);
    refused(`${base}vm: { firmware: efi }\n`, /3:17/, /uefi or bios/);
    refused(`${base}vm: { cpus: 0 }\n`, /3:13/, /from 1 to 64/);
    refused(`${base}vm: { timeouts: { install: soon } }\n`, /3:28/, /duration such as 90m/);
    refused(`${base}vm: { timeouts: { boot: 1h } }\n`, /3:19/, /unknown key 'boot'/);
    refused(`${base}provision:\n  - reboot: true\n`, /4:5/, /unknown provision step 'reboot'/);
    refused(`${base}provision:\n  - features: ['Web Server']\n`, /4:16/, /not a Windows feature name/);
    refused(`${base}provision:\n  - packages: [./x.exe]\n`, /4:16/, /\.msu or \.cab/);
    refused(`${base}provision:\n  - files: [{ src: a, dest: 'Tools' }]\n`, /4:29/, /absolute Windows path/);
    refused(`${base}provision:\n  - powershell: ''\n`, /4:17/, /is empty/);
    refused(`${base}customize:\n  - reboot: {}\n`, /4:5/, /unknown step 'reboot'/);
    refused(`source: { iso: a.iso, sha256: ${SHA}, edition: 1 }\noutput: {}\n`, /2:9/, /needs tag/);
    refused(`${base}extra: 1\n`, /3:1/, /unknown key 'extra'/);
    refused(
      `source: { iso: a.iso, sha256: ${SHA}, edition: 1, productKey: ABC }\noutput: { tag: a/b:c }\n`,
      /1:121/,
      /kms or a key/,
    );
    refused(`source: { image: Bad Name:v1, edition: 1 }\noutput: { tag: a/b:c }\n`, /1:18/, /image name/);
  });
});

test("docs/build.md's recipes (Windows Server 2022 and 2025, servicing) are read as they are written", async () => {
  const doc = await readFile(fileURLToPath(new URL('../../docs/build.md', import.meta.url)), 'utf8');
  const recipes = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .filter((text) => text.includes('source:'));
  assert.equal(recipes.length, 3, 'the 2022, 2025 and servicing examples');
  const [ws2022, ws2025, servicing] = recipes.map((text) =>
    parseBuildRecipe(text, 'docs/build.md', '/recipes'),
  );
  assert.deepEqual(ws2022?.source.kind === 'iso' && ws2022.source.edition, 'ServerDatacenter');
  assert.equal(ws2022?.provision.length, 7);
  assert.deepEqual(ws2025?.source.kind === 'iso' && ws2025.source.edition, 'ServerStandardCore');
  assert.equal(ws2025?.vm.tpm, true);
  assert.equal(servicing?.source.kind, 'image');
});
