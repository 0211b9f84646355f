// The answer file of a reference build (autounattend.xml on the answer media): Windows Setup reads
// it from the root of a removable drive and installs with no question asked. windowsPE wipes disk 0
// and lays it out for the firmware (UEFI: EFI system, MSR, Windows; BIOS: an active system
// partition, Windows), installs the edition by its index with its key and accepts the license;
// specialize sets the time zone; oobeSystem skips the OOBE pages, sets the build's own
// administrator password and logs on once as Administrator, which runs the provisioning script
// from the answer media (FirstLogonCommands). The passes and components are those of Microsoft's
// Unattended Windows Setup Reference; src/formats/unattend lints the result.

import { AppError } from '../core/errors.ts';
import {
  kmsClientKey,
  kmsEditions,
  mergeUnattend,
  newComponent,
  renderUnattend,
  unattendFromProfile,
  el,
  type Unattend,
  type XmlElement,
} from '../formats/unattend/index.ts';

import type { BuildFirmware } from './build-recipe.ts';

/** The volume label of the answer media; the logon command finds the media by it. */
export const ANSWER_MEDIA_LABEL = 'WINSMITH';
/** Where the provisioning script is on the answer media. */
export const PROVISION_SCRIPT_PATH = 'winsmith\\provision.ps1';

/** The edition being installed, as install.wim describes it. */
export interface InstallEdition {
  /** Its 1-based index in install.wim. */
  readonly index: number;
  /** Its EditionID (ServerDatacenter, ServerStandardCore...). */
  readonly editionId: string;
  /** Its build number (20348 for Server 2022, 26100 for Server 2025). */
  readonly build: number;
}

export interface AnswerSettings {
  readonly firmware: BuildFirmware;
  readonly edition: InstallEdition;
  /** 'kms' for the edition's public KMS client key, or a product key. */
  readonly productKey: string;
  readonly locale: string;
  readonly timeZone: string;
  /** The build's administrator password: made for this build, used by the provisioning logon only. */
  readonly adminPassword: string;
}

const ADD: readonly [string, string] = ['wcm:action', 'add'];

/** Windows' partition number (1-based, on disk 0) that receives the image, by firmware. */
export const WINDOWS_PARTITION: Readonly<Record<BuildFirmware, number>> = { uefi: 3, bios: 2 };

function partition(order: number, settings: readonly XmlElement[]): XmlElement {
  return el('CreatePartition', [el('Order', order), ...settings], [ADD]);
}

function modify(order: number, settings: readonly XmlElement[]): XmlElement {
  return el('ModifyPartition', [el('Order', order), el('PartitionID', order), ...settings], [ADD]);
}

/** Disk 0 wiped and laid out as Microsoft recommends for the firmware. */
function diskConfiguration(firmware: BuildFirmware): XmlElement {
  const [create, change] =
    firmware === 'uefi'
      ? [
          [
            partition(1, [el('Type', 'EFI'), el('Size', 260)]),
            partition(2, [el('Type', 'MSR'), el('Size', 16)]),
            partition(3, [el('Type', 'Primary'), el('Extend', true)]),
          ],
          [
            modify(1, [el('Format', 'FAT32'), el('Label', 'System')]),
            modify(2, []),
            modify(3, [el('Format', 'NTFS'), el('Label', 'Windows'), el('Letter', 'C')]),
          ],
        ]
      : [
          [
            partition(1, [el('Type', 'Primary'), el('Size', 500)]),
            partition(2, [el('Type', 'Primary'), el('Extend', true)]),
          ],
          [
            modify(1, [el('Format', 'NTFS'), el('Label', 'System'), el('Active', true)]),
            modify(2, [el('Format', 'NTFS'), el('Label', 'Windows'), el('Letter', 'C')]),
          ],
        ];
  return el('DiskConfiguration', [
    el(
      'Disk',
      [
        el('CreatePartitions', create),
        el('ModifyPartitions', change),
        el('DiskID', 0),
        el('WillWipeDisk', true),
      ],
      [ADD],
    ),
  ]);
}

/** The product key: the given one, or the public KMS client key of the edition and build. */
export function installProductKey(productKey: string, edition: InstallEdition): string {
  if (productKey.toLowerCase() !== 'kms') return productKey.toUpperCase();
  const key = kmsClientKey(edition.editionId, edition.build);
  if (key === undefined) {
    const known = kmsEditions(edition.build);
    throw new AppError(
      'INVALID_ARGUMENT',
      `no public KMS client key for edition ${edition.editionId} on build ${edition.build}; keys exist for ${known.join(', ') || 'Windows Server builds 14393 and later'}`,
      { hint: 'give the product key itself in source.productKey' },
    );
  }
  return key;
}

function windowsPe(settings: AnswerSettings): Unattend {
  const { locale, firmware, edition } = settings;
  const international = newComponent('Microsoft-Windows-International-Core-WinPE', 'amd64', [
    el('SetupUILanguage', [el('UILanguage', locale)]),
    el('InputLocale', locale),
    el('SystemLocale', locale),
    el('UILanguage', locale),
    el('UserLocale', locale),
  ]);
  const setup = newComponent('Microsoft-Windows-Setup', 'amd64', [
    diskConfiguration(firmware),
    el('ImageInstall', [
      el('OSImage', [
        el('InstallFrom', [el('MetaData', [el('Key', '/IMAGE/INDEX'), el('Value', edition.index)], [ADD])]),
        el('InstallTo', [el('DiskID', 0), el('PartitionID', WINDOWS_PARTITION[firmware])]),
        el('WillShowUI', 'OnError'),
      ]),
    ]),
    el('UserData', [
      el('AcceptEula', true),
      el('ProductKey', [
        el('Key', installProductKey(settings.productKey, edition)),
        el('WillShowUI', 'Never'),
      ]),
    ]),
  ]);
  return {
    settings: [{ pass: 'windowsPE', components: [international, setup], other: [] }],
    other: [],
    leading: [],
  };
}

/**
 * The logon command that starts provisioning: it finds the answer media by its label (its drive
 * letter depends on the other drives) and runs the script from it.
 */
export const PROVISION_COMMAND =
  'powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "' +
  `$d = (Get-Volume -FileSystemLabel ${ANSWER_MEDIA_LABEL}).DriveLetter; ` +
  `& ($d + ':\\${PROVISION_SCRIPT_PATH}')"`;

/** The answer file of a build. */
export function buildAutounattend(settings: AnswerSettings): Unattend {
  const later = unattendFromProfile({
    timeZone: settings.timeZone,
    locale: settings.locale,
    adminPassword: settings.adminPassword,
    autoLogon: { username: 'Administrator', password: settings.adminPassword, count: 1 },
    firstLogonCommands: [{ command: PROVISION_COMMAND, description: 'winsmith provisioning' }],
    oobe: { hideEulaPage: true, skipMachineOobe: true, protectYourPC: 3 },
    arch: 'amd64',
  });
  return mergeUnattend(windowsPe(settings), later);
}

export function renderAutounattend(settings: AnswerSettings): string {
  return renderUnattend(buildAutounattend(settings));
}
