import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormatError } from '../core/errors.ts';
import {
  infSection,
  infValue,
  parseInf,
  parseInfDriver,
  readInfInstall,
  selectModelsSections,
  sourceFilesFor,
  targetOsMatches,
  type InfTargetSystem,
} from './inf.ts';

const SAMPLE = [
  '; a comment line',
  '[Version]',
  'Signature = "$Windows NT$"',
  'Class = SCSIAdapter ; trailing comment',
  'ClassGuid = {4D36E97B-E325-11CE-BFC1-08002BE10318}',
  'Provider = %Mfg%',
  'DriverVer = 1/2/2024, 1.2.3.4',
  'CatalogFile = a.cat',
  'CatalogFile.NTamd64 = a64.cat',
  '',
  '[Manufacturer]',
  '%Mfg% = Models, NTamd64.10.0...14393, NTamd64.6.3, NTx86, NTarm64',
  '',
  '[Models.NTamd64.10.0...14393]',
  '%Dev% = inst, PCI\\VEN_1234&DEV_0001, \\',
  '   PCI\\VEN_1234',
  '[Models.NTamd64.6.3]',
  '%Dev% = inst_old, PCI\\VEN_1234&DEV_0001',
  '[Models.NTx86]',
  '%Dev% = inst, PCI\\VEN_1234&DEV_0001',
  '[Models.NTarm64]',
  '%Dev% = inst, PCI\\VEN_1234&DEV_0001',
  '',
  '[inst.NTamd64]',
  'CopyFiles = files_sys, @extra.dll',
  '[inst]',
  'CopyFiles = files_sys',
  '[inst_old]',
  'CopyFiles = files_sys',
  '[inst.NTamd64.Services]',
  'AddService = drv, 0x2, drv_service',
  '[drv_service]',
  'DisplayName = "Quoted ""name"" with 100%% sure"',
  'ServiceType = 1',
  'StartType = 0',
  'ErrorControl = 0x1',
  'ServiceBinary = %12%\\drv.sys',
  'LoadOrderGroup = SCSI miniport',
  'Dependencies = a, b',
  '[files_sys]',
  'drv.sys,,,2',
  'renamed.sys, source.sys',
  '[DestinationDirs]',
  'DefaultDestDir = 11',
  'files_sys = 12, sub',
  '[SourceDisksNames]',
  '1 = %Disk%,,,""',
  '[SourceDisksNames.amd64]',
  '1 = %Disk%,tag.txt,,\\amd64',
  '[SourceDisksFiles]',
  'drv.sys = 1',
  'source.sys = 1,, 4096',
  '[SourceDisksFiles.amd64]',
  'drv.sys = 1, amd64',
  '[Strings.040c]',
  'Dev = "Périphérique"',
  '[Strings]',
  'Mfg = "Contoso, Ltd."',
  'Dev = "Device"',
  'Disk = "Disk 1"',
  '[strings] ; merged with the one above',
  'Only = "only in the second"',
].join('\r\n');

const SERVER_2022: InfTargetSystem = { arch: 'amd64', major: 10, minor: 0, build: 20348, productType: 3 };

test('sections are case-insensitive and merged; comments, quotes and %% are handled', () => {
  const doc = parseInf(SAMPLE);
  assert.equal(infValue(infSection(doc, 'VERSION'), 'class'), 'SCSIAdapter');
  assert.equal(infValue(infSection(doc, 'drv_service'), 'DisplayName'), 'Quoted "name" with 100% sure');
  assert.equal(doc.strings.get('only'), 'only in the second');
  assert.equal(doc.strings.get('mfg'), 'Contoso, Ltd.');
});

test('localized strings: the language asked wins over [Strings]', () => {
  assert.equal(parseInfDriver(SAMPLE).modelsSections[0]?.models[0]?.description, 'Device');
  assert.equal(
    parseInfDriver(SAMPLE, { language: '040C' }).modelsSections[0]?.models[0]?.description,
    'Périphérique',
  );
  const onlyLocalized = '[Version]\nSignature="$Windows NT$"\nProvider=%P%\n[Strings.0407]\nP = "Anbieter"\n';
  assert.equal(parseInfDriver(onlyLocalized).version.provider, 'Anbieter');
});

test('Version: class, lower-case ClassGUID, provider, DriverVer as an ISO date, catalog files', () => {
  const { version } = parseInfDriver(SAMPLE);
  assert.equal(version.signature, '$Windows NT$');
  assert.equal(version.class, 'SCSIAdapter');
  assert.equal(version.classGuid, '{4d36e97b-e325-11ce-bfc1-08002be10318}');
  assert.equal(version.provider, 'Contoso, Ltd.');
  assert.deepEqual(version.driverVer, { date: '2024-01-02', version: '1.2.3.4' });
  assert.equal(version.catalogFile, 'a.cat');
  assert.deepEqual(version.catalogFiles, { ntamd64: 'a64.cat' });
});

test('Manufacturer decorations parse into arch, version, product type, suite mask, build', () => {
  const driver = parseInfDriver(SAMPLE);
  const [first] = driver.manufacturers;
  assert.equal(first?.name, 'Contoso, Ltd.');
  assert.deepEqual(
    first.targetOses.map((t) => [t.arch, t.major, t.minor, t.productType, t.suiteMask, t.build]),
    [
      ['amd64', 10, 0, undefined, undefined, 14393],
      ['amd64', 6, 3, undefined, undefined, undefined],
      ['x86', undefined, undefined, undefined, undefined, undefined],
      ['arm64', undefined, undefined, undefined, undefined, undefined],
    ],
  );
  const models = driver.modelsSections.find((s) => s.section === 'Models.NTamd64.10.0...14393');
  assert.deepEqual(models?.models[0], {
    line: 15,
    description: 'Device',
    installSection: 'inst',
    hardwareId: 'PCI\\VEN_1234&DEV_0001',
    compatibleIds: ['PCI\\VEN_1234'],
  });
});

test('models selection ranks decorations the way Windows does', () => {
  const driver = parseInfDriver(SAMPLE);
  const pick = (system: InfTargetSystem): string | undefined =>
    selectModelsSections(driver, system)[0]?.section;
  assert.equal(pick(SERVER_2022), 'Models.NTamd64.10.0...14393');
  // Server 2012 R2 (6.3) and Server 2016 before 14393 do not reach the build-decorated section.
  assert.equal(pick({ arch: 'amd64', major: 6, minor: 3, build: 9600 }), 'Models.NTamd64.6.3');
  assert.equal(pick({ arch: 'amd64', major: 10, minor: 0, build: 10240 }), 'Models.NTamd64.6.3');
  assert.equal(pick({ arch: 'x86', major: 10, minor: 0, build: 19041 }), 'Models.NTx86');
  assert.equal(pick({ arch: 'arm64', major: 10, minor: 0, build: 22621 }), 'Models.NTarm64');
  // Windows 7 / Server 2008 R2 (6.1) is older than every amd64 decoration.
  assert.equal(pick({ arch: 'amd64', major: 6, minor: 1, build: 7601 }), undefined);
});

test('targetOsMatches: undecorated sections serve x86 only; product type and suite mask must agree', () => {
  assert.equal(targetOsMatches(undefined, SERVER_2022), false);
  assert.equal(targetOsMatches(undefined, { ...SERVER_2022, arch: 'x86' }), true);
  const t = parseInfDriver(
    '[Version]\nSignature=$Windows NT$\n[Manufacturer]\nM=S,NTamd64.10.0.1.0x10\n[S.NTamd64.10.0.1.0x10]\n',
  ).manufacturers[0]?.targetOses[0];
  assert.equal(t?.productType, 1);
  assert.equal(t.suiteMask, 0x10);
  assert.equal(targetOsMatches(t, SERVER_2022), false);
  assert.equal(targetOsMatches(t, { ...SERVER_2022, productType: 1, suiteMask: 0x110 }), true);
  assert.equal(targetOsMatches(t, { ...SERVER_2022, productType: 1, suiteMask: 0x100 }), false);
});

test('install: decorated DDInstall section, CopyFiles with DestinationDirs, AddService', () => {
  const doc = parseInf(SAMPLE);
  const driver = parseInfDriver(SAMPLE);
  const model = selectModelsSections(driver, SERVER_2022)[0]?.models[0];
  assert.ok(model);
  const install = readInfInstall(doc, driver, model, 'amd64');
  assert.equal(install.section, 'inst.NTamd64');
  assert.deepEqual(
    install.copyFiles.map((f) => [
      f.destName,
      f.sourceName,
      f.flags,
      f.destination?.dirid,
      f.destination?.subdir,
    ]),
    [
      ['drv.sys', 'drv.sys', 2, 12, 'sub'],
      ['renamed.sys', 'source.sys', undefined, 12, 'sub'],
      ['extra.dll', 'extra.dll', undefined, 11, undefined],
    ],
  );
  assert.deepEqual(install.services, [
    {
      name: 'drv',
      flags: 2,
      installSection: 'drv_service',
      eventLogSection: undefined,
      displayName: 'Quoted "name" with 100% sure',
      description: undefined,
      serviceType: 1,
      startType: 0,
      errorControl: 1,
      serviceBinary: '%12%\\drv.sys',
      loadOrderGroup: 'SCSI miniport',
      dependencies: ['a', 'b'],
    },
  ]);
  // The x86 models name `inst`, which has no .NTx86 variant and no .Services section.
  assert.deepEqual(readInfInstall(doc, driver, model, 'x86').services, []);
});

test('source disks and files: the platform section first, then the undecorated one', () => {
  const driver = parseInfDriver(SAMPLE);
  assert.deepEqual(
    sourceFilesFor(driver, 'amd64').map((f) => [f.name, f.subdir, f.size, f.platform]),
    [
      ['drv.sys', 'amd64', undefined, 'amd64'],
      ['source.sys', undefined, 4096, undefined],
    ],
  );
  assert.deepEqual(
    sourceFilesFor(driver, 'x86').map((f) => f.name),
    ['drv.sys', 'source.sys'],
  );
  assert.deepEqual(
    driver.sourceDisksNames.map((d) => [d.id, d.description, d.tagFile, d.path, d.platform]),
    [
      ['1', 'Disk 1', undefined, undefined, undefined],
      ['1', 'Disk 1', 'tag.txt', '\\amd64', 'amd64'],
    ],
  );
});

test('UTF-16LE with a byte order mark and UTF-8 with one decode the same', () => {
  const text = SAMPLE;
  const utf16 = new Uint8Array(2 + text.length * 2);
  utf16.set([0xff, 0xfe]);
  for (let i = 0; i < text.length; i++) {
    utf16[2 + i * 2] = text.charCodeAt(i) & 0xff;
    utf16[3 + i * 2] = text.charCodeAt(i) >> 8;
  }
  const utf8 = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
  const a = parseInf(utf16);
  const b = parseInf(utf8);
  assert.equal(a.encoding, 'utf-16le');
  assert.equal(b.encoding, 'utf-8');
  assert.deepEqual([...a.sections.keys()], [...b.sections.keys()]);
  assert.deepEqual(
    parseInfDriver(utf16, { language: '040c' }).modelsSections[0]?.models[0]?.description,
    'Périphérique',
  );
});

test('ANSI (Windows-1252) text decodes when it is not UTF-8', () => {
  const bytes = new Uint8Array([...new TextEncoder().encode('[Strings]\nX = "caf'), 0xe9, 0x22, 0x0a]);
  const doc = parseInf(bytes);
  assert.equal(doc.encoding, 'windows-1252');
  assert.equal(doc.strings.get('x'), 'café');
});

test('bad input: FormatErrors that name the line', () => {
  const bad: [string, RegExp][] = [
    ['[Version\nSignature=x', /line 1: expected \] to close/],
    ['Signature=x', /line 1: expected a \[section\] header/],
    ['[Version]\nSignature="$Windows NT$\n', /line 2: expected a closing "/],
    [`[${'a'.repeat(256)}]`, /section name of 1 to 255/],
    ['[Strings]\nA=1\n', /expected a \[Version\] section/],
    ['[Version]\nSignature=x\nDriverVer=2024-01-01\n', /line 3: expected DriverVer = mm\/dd\/yyyy/],
    ['[Version]\nSignature=x\nClassGuid=nope\n', /expected ClassGUID/],
    ['[Version]\nSignature=x\n[Manufacturer]\nM=S,NTmips\n', /line 4: expected an architecture/],
    [
      '[Version]\nSignature=x\n[Manufacturer]\nM=S,NTamd64.x\n',
      /line 4: expected a number for the major version/,
    ],
  ];
  for (const [text, message] of bad)
    assert.throws(
      () => parseInfDriver(text),
      (e) => e instanceof FormatError && message.test(e.message),
    );
  assert.throws(
    () => parseInf(new Uint8Array([0xfe, 0xff, 0, 0x5b])),
    (e) => e instanceof FormatError && e.code === 'FORMAT_UNSUPPORTED',
  );
});

test('substitution that blows up a field is over the limit', () => {
  const text = `[Version]\nSignature=x\nProvider=${'%a%'.repeat(40)}\n[Strings]\na="${'x'.repeat(4000)}"\n`;
  assert.throws(
    () => parseInf(text),
    (e) => e instanceof FormatError && e.code === 'LIMIT_EXCEEDED',
  );
});

const infAlphabet = fc.constantFrom(
  '[',
  ']',
  '"',
  ';',
  ',',
  '=',
  '%',
  '\\',
  '\n',
  '\r\n',
  ' ',
  'a',
  'Version',
  'Signature',
  'Manufacturer',
  'NTamd64.10.0',
  'Strings',
  'DriverVer',
  '1/2/2020',
  'AddService',
  'CopyFiles',
  '.',
  '0x',
  '7',
);

test('big inputs stay linear: long continuations, many manufacturers on one models section', () => {
  const started = performance.now();
  const continued = `[Version]\nSignature=x\nProvider=a${'\\\n'.repeat(200_000)}b\n`;
  assert.equal(parseInfDriver(continued).version.provider, 'ab');
  const models = Array.from({ length: 2000 }, (_, i) => `%D% = inst, PCI\\VEN_${i}`).join('\n');
  const manufacturers = Array.from({ length: 2000 }, (_, i) => `M${i} = S, NTamd64.10.0, NTamd64.6.3`).join(
    '\n',
  );
  const many = `[Version]\nSignature=x\n[Manufacturer]\n${manufacturers}\n[S.NTamd64.10.0]\n${models}\n[S.NTamd64.6.3]\n${models}\n[inst]\n`;
  const driver = parseInfDriver(many);
  assert.equal(selectModelsSections(driver, SERVER_2022).length, 2000);
  assert.ok(performance.now() - started < 10_000);
});

test('fuzz: arbitrary text gives a value or a FormatError', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.array(infAlphabet).map((a) => a.join('')),
      ),
      (text) => {
        try {
          const doc = parseInf(text);
          const driver = parseInfDriver(text);
          for (const s of selectModelsSections(driver, SERVER_2022))
            for (const m of s.models) readInfInstall(doc, driver, m, 'amd64');
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('fuzz: arbitrary bytes give a value or a FormatError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        parseInfDriver(bytes);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
});
