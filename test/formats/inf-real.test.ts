// Every INF of the real virtio-win packages, read in place; the expected values are what each INF
// says (read by hand from the files).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REAL_FIXTURES, realFixture } from '../helpers/fixtures.ts';
import {
  parseInf,
  readInfDriver,
  readInfInstall,
  selectModelsSections,
  sourceFilesFor,
  type InfTargetSystem,
} from '../../src/formats/inf.ts';

const SCSI_ADAPTER = '{4d36e97b-e325-11ce-bfc1-08002be10318}';
const NET = '{4d36e972-e325-11ce-bfc1-08002be10318}';

interface Expected {
  readonly path: string;
  readonly class: string;
  readonly classGuid: string;
  readonly catalog: string;
  readonly models: string;
  readonly description: string;
  readonly install: string;
  readonly ids: readonly (readonly [string, string])[];
  readonly service: {
    name: string;
    installSection: string;
    type: number;
    start: number;
    errorControl: number;
    group: string;
    binary: string;
  };
  readonly sys: string;
}

const storage = (
  dir: string,
  sys: string,
  install: string,
  description: string,
  devs: [string, string][],
) => ({
  class: 'SCSIAdapter',
  classGuid: SCSI_ADAPTER,
  catalog: sys.replace('.sys', '.cat'),
  install: 'scsi_inst',
  description,
  models: install,
  ids: devs,
  service: {
    name: sys.replace('.sys', ''),
    installSection: 'scsi_Service_Inst',
    type: 1,
    start: 0,
    errorControl: 1,
    group: 'SCSI miniport',
    binary: `%12%\\${sys}`,
  },
  sys,
  path: dir,
});

const VIOSTOR_IDS: [string, string][] = [
  ['PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1001'],
  ['PCI\\VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01', 'PCI\\VEN_1AF4&DEV_1042'],
];
const NETKVM: Omit<Expected, 'path'> = {
  class: 'Net',
  classGuid: NET,
  catalog: 'netkvm.cat',
  models: 'NetKVM.NTamd64.6.3',
  description: 'Red Hat VirtIO Ethernet Adapter',
  install: 'kvmnet6.ndi',
  ids: [
    ['PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1000'],
    ['PCI\\VEN_1AF4&DEV_1041&SUBSYS_11001AF4&REV_01', 'PCI\\VEN_1AF4&DEV_1041'],
  ],
  service: {
    name: 'netkvm',
    installSection: 'kvmnet6.Service',
    type: 1,
    start: 3,
    errorControl: 1,
    group: 'NDIS',
    binary: '%12%\\netkvm.sys',
  },
  sys: 'netkvm.sys',
};

const BASE = 'drivers/virtio-win-0.1.240';
const CASES: Expected[] = [
  storage(
    `${BASE}/viostor/2k19/amd64/viostor.inf`,
    'viostor.sys',
    'VioStor.NTamd64.6.3',
    'Red Hat VirtIO SCSI controller',
    VIOSTOR_IDS,
  ),
  storage(
    `${BASE}/viostor/2k22/amd64/viostor.inf`,
    'viostor.sys',
    'VioStor.NTamd64.6.3',
    'Red Hat VirtIO SCSI controller',
    VIOSTOR_IDS,
  ),
  storage(
    `${BASE}/vioscsi/2k22/amd64/vioscsi.inf`,
    'vioscsi.sys',
    'VirtioScsi.NTamd64.6.3',
    'Red Hat VirtIO SCSI pass-through controller',
    [
      ['PCI\\VEN_1AF4&DEV_1004&SUBSYS_00081AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1004'],
      ['PCI\\VEN_1AF4&DEV_1048&SUBSYS_11001AF4&REV_01', 'PCI\\VEN_1AF4&DEV_1048'],
    ],
  ),
  { ...NETKVM, path: `${BASE}/NetKVM/2k16/amd64/netkvm.inf` },
  { ...NETKVM, path: `${BASE}/NetKVM/2k22/amd64/netkvm.inf` },
];

const SERVER_2022: InfTargetSystem = { arch: 'amd64', major: 10, minor: 0, build: 20348, productType: 3 };

function infFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? infFiles(join(dir, e.name))
      : e.name.toLowerCase().endsWith('.inf')
        ? [join(dir, e.name)]
        : [],
  );
}

const driversDir = realFixture('drivers');
test('every INF of the fixtures has its expected values here', { skip: driversDir.skip }, () => {
  const found = infFiles(driversDir.path)
    .map((f) => relative(REAL_FIXTURES, f))
    .sort();
  assert.deepEqual(found, CASES.map((c) => c.path).sort());
});

for (const c of CASES) {
  const fixture = realFixture(c.path);
  test(`INF ${c.path}`, { skip: fixture.skip }, () => {
    const doc = parseInf(readFileSync(fixture.path));
    const driver = readInfDriver(doc);
    assert.equal(driver.version.signature, '$Windows NT$');
    assert.equal(driver.version.class, c.class);
    assert.equal(driver.version.classGuid, c.classGuid);
    assert.equal(driver.version.provider, 'Red Hat, Inc.');
    assert.deepEqual(driver.version.driverVer, { date: '2023-07-21', version: '100.93.104.24000' });
    assert.equal(driver.version.catalogFile, c.catalog);

    assert.deepEqual(
      driver.manufacturers.map((m) => [
        m.name,
        m.modelsSection,
        m.targetOses.map((t) => [t.arch, t.major, t.minor]),
      ]),
      [['Red Hat, Inc.', c.models.split('.')[0], [['amd64', 6, 3]]]],
    );
    const [chosen, ...others] = selectModelsSections(driver, SERVER_2022);
    assert.equal(others.length, 0);
    assert.equal(chosen?.section, c.models);
    assert.deepEqual(
      chosen.models.map((m) => [m.description, m.installSection, m.hardwareId, ...m.compatibleIds]),
      c.ids.map(([hw, compat]) => [c.description, c.install, hw, compat]),
    );
    // Server 2016 (10.0.14393) takes the same section; x86, arm64 and Windows 7 find none.
    assert.equal(
      selectModelsSections(driver, { arch: 'amd64', major: 10, minor: 0, build: 14393 })[0]?.section,
      c.models,
    );
    assert.deepEqual(selectModelsSections(driver, { ...SERVER_2022, arch: 'x86' }), []);
    assert.deepEqual(selectModelsSections(driver, { ...SERVER_2022, arch: 'arm64' }), []);
    assert.deepEqual(selectModelsSections(driver, { arch: 'amd64', major: 6, minor: 1, build: 7601 }), []);

    const model = chosen.models[0];
    assert.ok(model);
    const install = readInfInstall(doc, driver, model, 'amd64');
    assert.equal(install.section, c.install);
    assert.deepEqual(
      install.copyFiles.map((f) => [f.destName, f.sourceName, f.flags, f.destination]),
      [[c.sys, c.sys, 2, { dirid: 12, subdir: undefined }]],
    );
    assert.deepEqual(
      install.services.map((s) => [
        s.name,
        s.flags,
        s.installSection,
        s.serviceType,
        s.startType,
        s.errorControl,
        s.loadOrderGroup,
        s.serviceBinary,
      ]),
      [
        [
          c.service.name,
          2,
          c.service.installSection,
          c.service.type,
          c.service.start,
          c.service.errorControl,
          c.service.group,
          c.service.binary,
        ],
      ],
    );
    assert.deepEqual(
      sourceFilesFor(driver, 'amd64').map((f) => [f.name, f.diskId, f.subdir, f.size]),
      [[c.sys, '1', undefined, undefined]],
    );
    assert.deepEqual(
      driver.sourceDisksNames.map((d) => [d.id, d.path]),
      [['1', undefined]],
    );
  });
}

test(
  'the vioscsi service has the display name its INF gives through [Strings]',
  { skip: realFixture(`${BASE}/vioscsi/2k22/amd64/vioscsi.inf`).skip },
  () => {
    const doc = parseInf(readFileSync(realFixture(`${BASE}/vioscsi/2k22/amd64/vioscsi.inf`).path));
    const driver = readInfDriver(doc);
    const model = selectModelsSections(driver, SERVER_2022)[0]?.models[0];
    assert.ok(model);
    assert.equal(
      readInfInstall(doc, driver, model, 'amd64').services[0]?.displayName,
      'Red Hat VirtIO SCSI pass-through Service',
    );
    assert.equal(driver.destinationDirs.get('defaultdestdir')?.dirid, 10);
    assert.equal(infValueOf(doc, 'scsi_EventLog_AddReg'), '%SystemRoot%\\System32\\IoLogMsg.dll');
  },
);

function infValueOf(doc: ReturnType<typeof parseInf>, section: string): string | undefined {
  return doc.sections.get(section.toLowerCase())?.lines[0]?.values[4];
}
