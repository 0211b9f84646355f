// The sample image's tree, as data: the folders and files of a Windows Server 2022 install.wim
// where later stages look (boot files, hives, drivers, INF, setup folders, profiles). Binaries are
// stand-ins whose content says so; hives and the BCD template are real, written by our own codecs.

/** The registry hives of the sample, by the file name they have under System32\config. */
export type SampleHiveName = 'SYSTEM' | 'SOFTWARE' | 'DEFAULT' | 'SAM' | 'SECURITY' | 'NTUSER.DAT';

export type SampleContent =
  /** A binary stand-in: text saying which file it stands in for. */
  | { readonly kind: 'stand-in'; readonly what: string }
  /** A stand-in that is also a minimal PE32+ image for x86-64 (tools read its headers). */
  | { readonly kind: 'pe'; readonly what: string; readonly dll: boolean }
  /** A text file with this content (CRLF line ends are written as given). */
  | { readonly kind: 'text'; readonly text: string }
  /** A setup information file for a driver package. */
  | { readonly kind: 'inf'; readonly driver: SampleDriver }
  | { readonly kind: 'hive'; readonly hive: SampleHiveName }
  | { readonly kind: 'bcd-template' };

export interface SampleFile {
  /** Path under the image root, '\\'-separated, with Windows' own capitalization. */
  readonly path: string;
  readonly content: SampleContent;
}

/** A driver of the sample: its INF in Windows\INF, its .sys, its service and driver-store package. */
export interface SampleDriver {
  readonly inf: string;
  readonly service: string;
  readonly description: string;
  readonly className: string;
  readonly classGuid: string;
  readonly hardwareIds: readonly string[];
  /** Service start type (0 boot, 1 system, 2 automatic, 3 on demand). */
  readonly start: number;
  readonly group: string;
  /** Driver store folder name suffix: `<inf>_amd64_<storeId>`. */
  readonly storeId: string;
}

export const SCSI_ADAPTER_CLASS = '{4d36e97b-e325-11ce-bfc1-08002be10318}';
export const NET_CLASS = '{4d36e972-e325-11ce-bfc1-08002be10318}';
export const DISK_CLASS = '{4d36e967-e325-11ce-bfc1-08002be10318}';

export const SAMPLE_DRIVERS: readonly SampleDriver[] = [
  {
    inf: 'storahci.inf',
    service: 'storahci',
    description: 'Microsoft Standard SATA AHCI Driver',
    className: 'SCSIAdapter',
    classGuid: SCSI_ADAPTER_CLASS,
    hardwareIds: ['PCI\\CC_010601'],
    start: 0,
    group: 'SCSI Miniport',
    storeId: '0c8ef1d2a1d4b1a6',
  },
  {
    inf: 'stornvme.inf',
    service: 'stornvme',
    description: 'Standard NVM Express Controller',
    className: 'SCSIAdapter',
    classGuid: SCSI_ADAPTER_CLASS,
    hardwareIds: ['PCI\\CC_010802'],
    start: 3,
    group: 'SCSI Miniport',
    storeId: '7ab6d8e1f1b0c2d3',
  },
  {
    inf: 'disk.inf',
    service: 'disk',
    description: 'Disk drive',
    className: 'DiskDrive',
    classGuid: DISK_CLASS,
    hardwareIds: ['GenDisk'],
    start: 0,
    group: 'SCSI Class',
    storeId: 'b6f1d4e2c3a59f70',
  },
  {
    inf: 'netvsc.inf',
    service: 'netvsc',
    description: 'Microsoft Hyper-V Network Adapter',
    className: 'Net',
    classGuid: NET_CLASS,
    hardwareIds: ['VMBUS\\{F8615163-DF3E-46C5-913F-F2D2F965ED0E}'],
    start: 3,
    group: 'NDIS',
    storeId: '4e2d9a8c7b6f5e1d',
  },
];

/** A generalized image that goes into OOBE at first boot, as install.wim images are. */
export const SAMPLE_IMAGE_STATE = 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE';

/** The text every stand-in starts with; tests and later stages recognize stand-ins by it. */
export const STAND_IN_MARK = 'winsmith stand-in';

export function standInText(path: string, what: string): string {
  return (
    `${STAND_IN_MARK}: this is not Microsoft's ${path}.\r\n` +
    `It was made by winsmith for its sample image and stands in for: ${what}.\r\n` +
    'It holds no program code and cannot run.\r\n'
  );
}

/** Empty folders of the image (folders holding files are implied by the files). */
export const SAMPLE_DIRECTORIES: readonly string[] = [
  'PerfLogs',
  'Program Files\\Common Files',
  'Program Files\\WindowsPowerShell\\Modules',
  'Program Files (x86)\\Common Files',
  'ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\StartUp',
  'Users\\Default\\AppData\\Local\\Temp',
  'Users\\Default\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs',
  'Users\\Default\\Desktop',
  'Users\\Default\\Documents',
  'Users\\Public\\Documents',
  'Users\\Public\\Desktop',
  'Windows\\Panther',
  'Windows\\Setup\\Scripts',
  'Windows\\Logs',
  'Windows\\System32\\config\\RegBack',
  'Windows\\System32\\config\\systemprofile',
  'Windows\\System32\\drivers\\etc',
  'Windows\\System32\\Tasks',
  'Windows\\SysWOW64',
  'Windows\\WinSxS\\Manifests',
];

const standIn = (what: string): SampleContent => ({ kind: 'stand-in', what });
const pe = (what: string, dll = false): SampleContent => ({ kind: 'pe', what, dll });
const hive = (name: SampleHiveName): SampleContent => ({ kind: 'hive', hive: name });

const BOOT_FONTS = [
  'chs_boot.ttf',
  'cht_boot.ttf',
  'jpn_boot.ttf',
  'kor_boot.ttf',
  'malgun_boot.ttf',
  'meiryo_boot.ttf',
  'msjh_boot.ttf',
  'msyh_boot.ttf',
  'segmono_boot.ttf',
  'segoe_slboot.ttf',
  'segoen_slboot.ttf',
  'wgl4_boot.ttf',
];

export const SAMPLE_FILES: readonly SampleFile[] = [
  // Registry hives and the BCD template bcdboot starts new stores from.
  { path: 'Windows\\System32\\config\\SYSTEM', content: hive('SYSTEM') },
  { path: 'Windows\\System32\\config\\SOFTWARE', content: hive('SOFTWARE') },
  { path: 'Windows\\System32\\config\\DEFAULT', content: hive('DEFAULT') },
  { path: 'Windows\\System32\\config\\SAM', content: hive('SAM') },
  { path: 'Windows\\System32\\config\\SECURITY', content: hive('SECURITY') },
  { path: 'Windows\\System32\\config\\BCD-Template', content: { kind: 'bcd-template' } },
  { path: 'Users\\Default\\NTUSER.DAT', content: hive('NTUSER.DAT') },

  // UEFI boot files, as bcdboot copies them to the EFI system partition.
  {
    path: 'Windows\\Boot\\EFI\\bootmgfw.efi',
    content: standIn('the Windows Boot Manager for UEFI (signed)'),
  },
  { path: 'Windows\\Boot\\EFI\\bootmgr.efi', content: standIn('the Windows Boot Manager, EFI application') },
  { path: 'Windows\\Boot\\EFI\\memtest.efi', content: standIn('the Windows Memory Diagnostic for UEFI') },
  { path: 'Windows\\Boot\\EFI\\boot.stl', content: standIn('the boot certificate trust list') },
  { path: 'Windows\\Boot\\EFI\\winsipolicy.p7b', content: standIn('the Secure Boot code integrity policy') },
  { path: 'Windows\\Boot\\EFI\\kd_02_8086.dll', content: standIn('a kernel debugger transport') },
  { path: 'Windows\\Boot\\EFI\\en-US\\bootmgfw.efi.mui', content: standIn('boot manager messages, en-US') },
  { path: 'Windows\\Boot\\EFI\\en-US\\bootmgr.efi.mui', content: standIn('boot manager messages, en-US') },
  {
    path: 'Windows\\Boot\\EFI\\en-US\\memtest.efi.mui',
    content: standIn('memory diagnostic messages, en-US'),
  },
  // BIOS boot files.
  { path: 'Windows\\Boot\\PCAT\\bootmgr', content: standIn('the Windows Boot Manager for BIOS') },
  { path: 'Windows\\Boot\\PCAT\\bootnxt', content: standIn('the next-stage boot loader for BIOS') },
  { path: 'Windows\\Boot\\PCAT\\memtest.exe', content: standIn('the Windows Memory Diagnostic for BIOS') },
  { path: 'Windows\\Boot\\PCAT\\en-US\\bootmgr.exe.mui', content: standIn('boot manager messages, en-US') },
  {
    path: 'Windows\\Boot\\PCAT\\en-US\\memtest.exe.mui',
    content: standIn('memory diagnostic messages, en-US'),
  },
  // Network boot files.
  { path: 'Windows\\Boot\\PXE\\pxeboot.n12', content: standIn('the PXE boot program (no F12 prompt)') },
  { path: 'Windows\\Boot\\PXE\\pxeboot.com', content: standIn('the PXE boot program') },
  { path: 'Windows\\Boot\\PXE\\bootmgr.exe', content: standIn('the Windows Boot Manager for PXE') },
  { path: 'Windows\\Boot\\PXE\\wdsnbp.com', content: standIn('the WDS network boot program') },
  { path: 'Windows\\Boot\\PXE\\abortpxe.com', content: standIn('the PXE abort program') },
  // Boot media files.
  { path: 'Windows\\Boot\\DVD\\EFI\\boot.sdi', content: standIn('the System Deployment Image ramdisk') },
  { path: 'Windows\\Boot\\DVD\\EFI\\en-US\\efisys.bin', content: standIn('the UEFI El Torito boot image') },
  { path: 'Windows\\Boot\\DVD\\PCAT\\etfsboot.com', content: standIn('the BIOS El Torito boot sector') },
  { path: 'Windows\\Boot\\DVD\\PCAT\\boot.sdi', content: standIn('the System Deployment Image ramdisk') },
  // Boot fonts and resources.
  ...BOOT_FONTS.map((font) => ({
    path: `Windows\\Boot\\Fonts\\${font}`,
    content: standIn(`the boot font ${font}`),
  })),
  { path: 'Windows\\Boot\\Resources\\bootres.dll', content: standIn('boot resources (logo, animation)') },
  { path: 'Windows\\Boot\\Resources\\en-US\\bootres.dll.mui', content: standIn('boot resources, en-US') },

  // System32: loaders, kernel, and the binaries tools inspect.
  { path: 'Windows\\System32\\winload.efi', content: pe('the Windows OS loader for UEFI') },
  { path: 'Windows\\System32\\winload.exe', content: pe('the Windows OS loader for BIOS') },
  { path: 'Windows\\System32\\winresume.efi', content: pe('the resume-from-hibernation loader for UEFI') },
  { path: 'Windows\\System32\\winresume.exe', content: pe('the resume-from-hibernation loader for BIOS') },
  { path: 'Windows\\System32\\ntoskrnl.exe', content: pe('the NT kernel') },
  { path: 'Windows\\System32\\hal.dll', content: pe('the hardware abstraction layer', true) },
  { path: 'Windows\\System32\\kernel32.dll', content: pe('the Win32 base API', true) },
  { path: 'Windows\\System32\\ntdll.dll', content: pe('the NT layer DLL', true) },
  { path: 'Windows\\System32\\cmd.exe', content: pe('the command processor') },
  { path: 'Windows\\System32\\bcdboot.exe', content: pe('the boot file installer') },
  { path: 'Windows\\System32\\bcdedit.exe', content: pe('the BCD store editor') },
  { path: 'Windows\\System32\\Sysprep\\sysprep.exe', content: pe('the system preparation tool') },
  { path: 'Windows\\System32\\oobe\\windeploy.exe', content: pe('the setup deployment program') },
  { path: 'Windows\\System32\\en-US\\kernel32.dll.mui', content: standIn('Win32 base API messages, en-US') },
  { path: 'Windows\\System32\\drivers\\etc\\hosts', content: { kind: 'text', text: hostsText() } },
  { path: 'Windows\\System32\\drivers\\ntfs.sys', content: pe('the NTFS file system driver') },
  { path: 'Windows\\System32\\drivers\\tcpip.sys', content: pe('the TCP/IP driver') },
  ...SAMPLE_DRIVERS.flatMap((driver): SampleFile[] => {
    const sys = `${driver.service}.sys`;
    const store = `Windows\\System32\\DriverStore\\FileRepository\\${driver.inf}_amd64_${driver.storeId}`;
    return [
      { path: `Windows\\System32\\drivers\\${sys}`, content: pe(driver.description) },
      { path: `Windows\\INF\\${driver.inf}`, content: { kind: 'inf', driver } },
      { path: `${store}\\${driver.inf}`, content: { kind: 'inf', driver } },
      { path: `${store}\\${sys}`, content: pe(driver.description) },
    ];
  }),

  // The Windows folder itself.
  { path: 'Windows\\explorer.exe', content: pe('the Windows shell') },
  { path: 'Windows\\regedit.exe', content: pe('the registry editor') },
  {
    path: 'Windows\\win.ini',
    content: {
      kind: 'text',
      text: '; for 16-bit app support\r\n[fonts]\r\n[extensions]\r\n[mci extensions]\r\n[files]\r\n[Mail]\r\nMAPI=1\r\n',
    },
  },
  {
    path: 'Windows\\Temp\\sample-setup.log',
    content: {
      kind: 'text',
      text: 'winsmith sample image: a leftover log file, as build steps leave in Windows\\Temp.\r\n',
    },
  },
  { path: 'Windows\\Temp\\sample-cache.tmp', content: standIn('a temporary file left by setup') },
  {
    path: 'Windows\\Setup\\State\\State.ini',
    content: { kind: 'text', text: `[State]\r\nImageState=${SAMPLE_IMAGE_STATE}\r\n` },
  },
  {
    path: 'Windows\\Panther\\setupact.log',
    content: { kind: 'text', text: 'winsmith sample image: stand-in for the setup action log.\r\n' },
  },
  { path: 'Program Files\\Windows NT\\Accessories\\wordpad.exe', content: pe('WordPad') },
  {
    path: 'ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\desktop.ini',
    content: {
      kind: 'text',
      text: '[.ShellClassInfo]\r\nLocalizedResourceName=@%SystemRoot%\\system32\\shell32.dll,-21782\r\n',
    },
  },
  {
    path: 'Users\\Public\\desktop.ini',
    content: {
      kind: 'text',
      text: '[.ShellClassInfo]\r\nLocalizedResourceName=@%SystemRoot%\\system32\\shell32.dll,-21816\r\n',
    },
  },
];

function hostsText(): string {
  return (
    '# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n' +
    '# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.\r\n#\r\n' +
    '# localhost name resolution is handled within DNS itself.\r\n' +
    '#\t127.0.0.1       localhost\r\n#\t::1             localhost\r\n'
  );
}

/** A driver package's INF: enough for driver injection to read its class, hardware IDs and service. */
export function renderInf(driver: SampleDriver): string {
  const section = `${driver.service}_Inst`;
  const lines = [
    `; ${driver.inf} - ${STAND_IN_MARK}: a sample INF made by winsmith, not Microsoft's`,
    '',
    '[Version]',
    'Signature="$WINDOWS NT$"',
    `Class=${driver.className}`,
    `ClassGuid=${driver.classGuid.toUpperCase()}`,
    'Provider=%MSFT%',
    'DriverVer=06/21/2006,10.0.20348.1',
    '',
    '[SourceDisksNames]',
    '3426=windows cd',
    '',
    '[SourceDisksFiles]',
    `${driver.service}.sys=3426`,
    '',
    '[DestinationDirs]',
    `${driver.service}_Files=13`,
    '',
    '[Manufacturer]',
    '%MSFT%=Microsoft,NTamd64',
    '',
    '[Microsoft.NTamd64]',
    ...driver.hardwareIds.map((id) => `%DeviceDesc%=${section},${id}`),
    '',
    `[${section}]`,
    `CopyFiles=${driver.service}_Files`,
    '',
    `[${driver.service}_Files]`,
    `${driver.service}.sys`,
    '',
    `[${section}.Services]`,
    `AddService=${driver.service},0x00000002,${driver.service}_Service`,
    '',
    `[${driver.service}_Service]`,
    'ServiceType=1',
    `StartType=${driver.start}`,
    'ErrorControl=1',
    `ServiceBinary=%13%\\${driver.service}.sys`,
    `LoadOrderGroup=${driver.group}`,
    '',
    '[Strings]',
    'MSFT="Microsoft"',
    `DeviceDesc="${driver.description}"`,
    '',
  ];
  return lines.join('\r\n');
}
