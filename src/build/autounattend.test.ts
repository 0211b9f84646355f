import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  childElements,
  decodeUnattendPassword,
  findComponents,
  lintUnattend,
  parseUnattend,
  type UnattendComponent,
  type XmlElement,
} from '../formats/unattend/index.ts';
import { renderAutounattend, PROVISION_COMMAND, type AnswerSettings } from './autounattend.ts';

const SETTINGS: AnswerSettings = {
  firmware: 'uefi',
  edition: { index: 4, editionId: 'ServerDatacenter', build: 20348 },
  productKey: 'kms',
  locale: 'en-GB',
  timeZone: 'GMT Standard Time',
  adminPassword: 'Build-Only-9f3a',
};

function only(u: ReturnType<typeof parseUnattend>, pass: string, name: string): UnattendComponent {
  const found = findComponents(u, pass, name);
  assert.equal(found.length, 1, `${pass}/${name}`);
  return found[0] as UnattendComponent;
}

function path(root: readonly XmlElement[] | XmlElement, ...names: string[]): XmlElement {
  let here: readonly XmlElement[] = Array.isArray(root) ? root : childElements(root as XmlElement);
  let found: XmlElement | undefined;
  for (const name of names) {
    found = here.find((e) => e.name === name);
    assert.ok(found, `no <${name}> in ${names.join('/')}`);
    here = childElements(found);
  }
  return found as XmlElement;
}

function text(e: XmlElement): string {
  return e.children.map((c) => (c.kind === 'text' ? c.text : '')).join('');
}

function settings(c: UnattendComponent): XmlElement[] {
  return c.settings.filter((s): s is XmlElement => s.kind === 'element');
}

describe('the answer file of a build', () => {
  test('UEFI: disk 0 wiped into EFI, MSR and Windows; the edition by index with its KMS key', () => {
    const u = parseUnattend(renderAutounattend(SETTINGS));
    const setup = settings(only(u, 'windowsPE', 'Microsoft-Windows-Setup'));
    const disk = path(setup, 'DiskConfiguration', 'Disk');
    assert.equal(text(path(disk, 'WillWipeDisk')), 'true');
    const types = childElements(path(disk, 'CreatePartitions')).map((p) => text(path(p, 'Type')));
    assert.deepEqual(types, ['EFI', 'MSR', 'Primary']);
    assert.equal(text(path(setup, 'ImageInstall', 'OSImage', 'InstallTo', 'PartitionID')), '3');
    const meta = path(setup, 'ImageInstall', 'OSImage', 'InstallFrom', 'MetaData');
    assert.equal(text(path(meta, 'Key')), '/IMAGE/INDEX');
    assert.equal(text(path(meta, 'Value')), '4');
    assert.equal(text(path(setup, 'UserData', 'ProductKey', 'Key')), 'WX4NM-KYWYW-QJJR4-XV3QB-6VM33');
    assert.equal(text(path(setup, 'UserData', 'AcceptEula')), 'true');
    const pe = settings(only(u, 'windowsPE', 'Microsoft-Windows-International-Core-WinPE'));
    assert.equal(text(path(pe, 'SetupUILanguage', 'UILanguage')), 'en-GB');
  });

  test('BIOS: an active system partition, Windows on partition 2', () => {
    const u = parseUnattend(renderAutounattend({ ...SETTINGS, firmware: 'bios' }));
    const setup = settings(only(u, 'windowsPE', 'Microsoft-Windows-Setup'));
    const modify = childElements(path(setup, 'DiskConfiguration', 'Disk', 'ModifyPartitions'));
    assert.equal(text(path(modify[0] as XmlElement, 'Active')), 'true');
    assert.equal(text(path(modify[1] as XmlElement, 'Letter')), 'C');
    assert.equal(text(path(setup, 'ImageInstall', 'OSImage', 'InstallTo', 'PartitionID')), '2');
  });

  test('each Server release and edition gets its own key; a given key is kept', () => {
    const key = (editionId: string, build: number, productKey = 'kms'): string => {
      const u = parseUnattend(
        renderAutounattend({ ...SETTINGS, productKey, edition: { index: 1, editionId, build } }),
      );
      return text(
        path(settings(only(u, 'windowsPE', 'Microsoft-Windows-Setup')), 'UserData', 'ProductKey', 'Key'),
      );
    };
    assert.equal(key('ServerStandard', 20348), 'VDYBN-27WPP-V4HQT-9VMD4-VMK7H');
    assert.equal(key('ServerStandardCor', 26100), 'TVRH6-WHNXV-R9WG3-9XRFY-MY832');
    assert.equal(key('ServerDatacenter', 26100), 'D764K-2NDRG-47T6Q-P8T8W-YP6DF');
    assert.equal(
      key('ServerDatacenter', 17763, 'aaaaa-bbbbb-ccccc-ddddd-eeeee'),
      'AAAAA-BBBBB-CCCCC-DDDDD-EEEEE',
    );
    assert.throws(
      () => renderAutounattend({ ...SETTINGS, edition: { index: 1, editionId: 'ServerWeb', build: 20348 } }),
      /no public KMS client key for edition ServerWeb on build 20348; keys exist for ServerStandard/,
    );
  });

  test('oobeSystem: no OOBE pages, the build password, one autologon that starts provisioning', () => {
    const u = parseUnattend(renderAutounattend(SETTINGS));
    const shell = settings(only(u, 'oobeSystem', 'Microsoft-Windows-Shell-Setup'));
    const admin = path(shell, 'UserAccounts', 'AdministratorPassword', 'Value');
    assert.equal(decodeUnattendPassword(text(admin), 'AdministratorPassword'), 'Build-Only-9f3a');
    assert.equal(text(path(shell, 'AutoLogon', 'LogonCount')), '1');
    assert.equal(text(path(shell, 'AutoLogon', 'Username')), 'Administrator');
    assert.equal(
      text(path(shell, 'FirstLogonCommands', 'SynchronousCommand', 'CommandLine')),
      PROVISION_COMMAND,
    );
    assert.equal(text(path(shell, 'OOBE', 'HideEULAPage')), 'true');
    const spec = settings(only(u, 'specialize', 'Microsoft-Windows-Shell-Setup'));
    assert.equal(text(path(spec, 'TimeZone')), 'GMT Standard Time');
  });

  test('the result passes lint: every component and setting in a pass Windows reads it in', () => {
    for (const firmware of ['uefi', 'bios'] as const) {
      const findings = lintUnattend(renderAutounattend({ ...SETTINGS, firmware }));
      assert.deepEqual(
        findings.filter((f) => f.severity === 'error'),
        [],
      );
    }
  });
});
