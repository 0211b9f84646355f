// The content of the sample image's registry hives, as data: the keys and values of a Windows Server
// 2022 Standard install.wim (build 20348.169, en-US) where later code and other tools look. Key paths
// are relative to the hive root; a value named '' is the key's default value.
//
// Who reads what:
// - wimlib fills the WIM's WINDOWS XML from SOFTWARE `Microsoft\Windows NT\CurrentVersion`
//   (ProductName, EditionID, InstallationType, CurrentMajor/MinorVersionNumber, CurrentBuild) and
//   SYSTEM `ControlSet001\Control\{Windows (CSDBuildNumber, CSDVersion), ProductOptions,
//   Class\{4D36E966-…}\0000 (MatchingDeviceId: the HAL), MUI\UILanguages, Nls\Language}`
//   (wimlib src/xml_windows.c).
// - Offline tools have no CurrentControlSet: they read `Select\Current` and use ControlSet00N.
// - Driver injection on Windows 8 and later writes `DriverDatabase` at the root of SYSTEM, and the
//   service keys under `ControlSet001\Services` (libguestfs-common mlcustomize/inject_virtio_win.ml).
// - `Microsoft\Windows\CurrentVersion\Setup\State` ImageState in SOFTWARE (and %WINDIR%\Setup\State\
//   State.ini, see layout.ts) tells a generalized image from a specialized one (Microsoft, "Windows
//   Setup States").

import { encodeGuid } from '../../formats/guid.ts';
import { SAMPLE_DRIVERS, SAMPLE_IMAGE_STATE, type SampleHiveName } from './layout.ts';

export type RegTypeName =
  'REG_NONE' | 'REG_SZ' | 'REG_EXPAND_SZ' | 'REG_BINARY' | 'REG_DWORD' | 'REG_MULTI_SZ' | 'REG_QWORD';

export interface SampleValue {
  /** A type name, or a raw type number (the SAM keeps account RIDs in value types). */
  readonly type: RegTypeName | number;
  readonly data: string | readonly string[] | number | bigint | Uint8Array;
}

export interface SampleHive {
  /** The root key's name: Windows' image tools name it this way in every install.wim hive. */
  readonly rootName: string;
  readonly keys: Readonly<Record<string, Readonly<Record<string, SampleValue>>>>;
}

/** Build number and update revision of the sample: 10.0.20348.169, Server 2022's release media. */
export const SAMPLE_BUILD = { major: 10, minor: 0, build: 20348, revision: 169 } as const;

export const SAMPLE_PRODUCT = {
  productName: 'Windows Server 2022 Standard',
  editionId: 'ServerStandard',
  installationType: 'Server',
  computerName: 'MINWINPC',
  language: 'en-US',
} as const;

const sz = (data: string): SampleValue => ({ type: 'REG_SZ', data });
const expand = (data: string): SampleValue => ({ type: 'REG_EXPAND_SZ', data });
const multi = (...data: string[]): SampleValue => ({ type: 'REG_MULTI_SZ', data });
const dword = (data: number): SampleValue => ({ type: 'REG_DWORD', data });
const qword = (data: bigint): SampleValue => ({ type: 'REG_QWORD', data });
const binary = (...bytes: number[]): SampleValue => ({ type: 'REG_BINARY', data: Uint8Array.from(bytes) });
/** An empty value of a raw type number. */
const typed = (type: number): SampleValue => ({ type, data: new Uint8Array(0) });

const ROOT_NAME = 'CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}';
const CURRENT_VERSION = 'Microsoft\\Windows NT\\CurrentVersion';
const CS = 'ControlSet001';
const build = String(SAMPLE_BUILD.build);

/** A kernel driver's service key, as the INF's AddService makes it. */
function driverService(
  imagePath: string,
  start: number,
  group: string,
  displayName: string,
): Record<string, SampleValue> {
  return {
    Type: dword(1),
    Start: dword(start),
    ErrorControl: dword(1),
    ImagePath: expand(imagePath),
    Group: sz(group),
    DisplayName: sz(displayName),
  };
}

/** A service run by svchost. */
function sharedService(
  command: string,
  start: number,
  account: string,
  displayName: string,
): Record<string, SampleValue> {
  return {
    Type: dword(0x20),
    Start: dword(start),
    ErrorControl: dword(1),
    ImagePath: expand(command),
    ObjectName: sz(account),
    DisplayName: sz(displayName),
  };
}

/**
 * A driver package's `Version`: 8 bytes (00 ff 09 00, then zeros), the setup class GUID in its
 * 16-byte form, and 24 zero bytes. This is the form libguestfs-common writes when it injects a boot
 * driver (its comment: Windows-Kernel-Pnp needs it on Windows 10 and Server 2016 and later).
 */
function packageVersion(classGuid: string): SampleValue {
  const data = new Uint8Array(48);
  data.set([0x00, 0xff, 0x09, 0x00], 0);
  data.set(encodeGuid(classGuid), 8);
  return { type: 'REG_BINARY', data };
}

function driverKeys(): Record<string, Record<string, SampleValue>> {
  const keys: Record<string, Record<string, SampleValue>> = {};
  for (const d of SAMPLE_DRIVERS) {
    const pkg = `${d.inf}_amd64_${d.storeId}`;
    const conf = `${d.service}_Inst`;
    keys[`${CS}\\Services\\${d.service}`] = driverService(
      `System32\\drivers\\${d.service}.sys`,
      d.start,
      d.group,
      d.description,
    );
    keys[`DriverDatabase\\DriverInfFiles\\${d.inf}`] = {
      '': multi(pkg),
      Active: sz(pkg),
      Configurations: multi(conf),
    };
    for (const id of d.hardwareIds) {
      keys[`DriverDatabase\\DeviceIds\\${id}`] = { [d.inf]: binary(0x01, 0xff, 0x00, 0x00) };
      keys[`DriverDatabase\\DriverPackages\\${pkg}\\Descriptors\\${id}`] = { Configuration: sz(conf) };
    }
    keys[`DriverDatabase\\DriverPackages\\${pkg}`] = {
      '': sz(d.inf),
      Provider: sz('Microsoft'),
      SignerName: sz('Microsoft Windows'),
      SignerScore: dword(0x0d000001),
      Version: packageVersion(d.classGuid),
    };
    keys[`DriverDatabase\\DriverPackages\\${pkg}\\Configurations\\${conf}`] = {
      ConfigFlags: dword(0),
      Service: sz(d.service),
    };
  }
  return keys;
}

const SYSTEM: SampleHive = {
  rootName: ROOT_NAME,
  keys: {
    Select: { Current: dword(1), Default: dword(1), Failed: dword(0), LastKnownGood: dword(1) },
    Setup: {
      CmdLine: sz('oobe\\windeploy.exe'),
      OOBEInProgress: dword(1),
      SetupType: dword(2),
      SystemSetupInProgress: dword(1),
    },
    MountedDevices: {},
    [`${CS}\\Control`]: {
      SystemBootDevice: sz('multi(0)disk(0)rdisk(0)partition(1)'),
      WaitToKillServiceTimeout: sz('5000'),
    },
    [`${CS}\\Control\\ComputerName\\ComputerName`]: { ComputerName: sz(SAMPLE_PRODUCT.computerName) },
    [`${CS}\\Control\\ComputerName\\ActiveComputerName`]: { ComputerName: sz(SAMPLE_PRODUCT.computerName) },
    [`${CS}\\Control\\Session Manager`]: { BootExecute: multi('autocheck autochk *') },
    [`${CS}\\Control\\Session Manager\\Environment`]: {
      ComSpec: expand('%SystemRoot%\\system32\\cmd.exe'),
      DriverData: sz('C:\\Windows\\System32\\Drivers\\DriverData'),
      NUMBER_OF_PROCESSORS: sz('1'),
      OS: sz('Windows_NT'),
      Path: expand(
        '%SystemRoot%\\system32;%SystemRoot%;%SystemRoot%\\System32\\Wbem;%SYSTEMROOT%\\System32\\WindowsPowerShell\\v1.0\\;%SYSTEMROOT%\\System32\\OpenSSH\\',
      ),
      PATHEXT: sz('.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC'),
      PROCESSOR_ARCHITECTURE: sz('AMD64'),
      PSModulePath: expand(
        '%ProgramFiles%\\WindowsPowerShell\\Modules;%SystemRoot%\\system32\\WindowsPowerShell\\v1.0\\Modules',
      ),
      TEMP: expand('%SystemRoot%\\TEMP'),
      TMP: expand('%SystemRoot%\\TEMP'),
      USERNAME: sz('SYSTEM'),
      windir: expand('%SystemRoot%'),
    },
    [`${CS}\\Control\\Terminal Server`]: { fDenyTSConnections: dword(1), TSUserEnabled: dword(0) },
    [`${CS}\\Control\\Terminal Server\\WinStations\\RDP-Tcp`]: {
      PortNumber: dword(3389),
      UserAuthentication: dword(1),
    },
    [`${CS}\\Control\\Nls\\Language`]: { Default: sz('0409'), InstallLanguage: sz('0409') },
    [`${CS}\\Control\\Nls\\CodePage`]: { ACP: sz('1252'), OEMCP: sz('437'), MACCP: sz('10000') },
    [`${CS}\\Control\\MUI\\UILanguages\\en-US`]: { LCID: dword(0x409), DefaultFallback: sz('en-US') },
    [`${CS}\\Control\\Windows`]: {
      CSDBuildNumber: dword(SAMPLE_BUILD.revision),
      CSDVersion: dword(0),
      SystemDirectory: expand('%SystemRoot%\\system32'),
      ErrorMode: dword(0),
    },
    [`${CS}\\Control\\ProductOptions`]: {
      ProductType: sz('ServerNT'),
      ProductSuite: multi('Terminal Server'),
    },
    [`${CS}\\Control\\CrashControl`]: {
      AutoReboot: dword(1),
      CrashDumpEnabled: dword(7),
      DumpFile: expand('%SystemRoot%\\MEMORY.DMP'),
    },
    [`${CS}\\Control\\TimeZoneInformation`]: {
      TimeZoneKeyName: sz('Pacific Standard Time'),
      Bias: dword(480),
      DynamicDaylightTimeDisabled: dword(0),
    },
    [`${CS}\\Control\\Class\\{4d36e966-e325-11ce-bfc1-08002be10318}`]: {
      '': sz('Computer'),
      Class: sz('Computer'),
    },
    [`${CS}\\Control\\Class\\{4d36e966-e325-11ce-bfc1-08002be10318}\\0000`]: {
      MatchingDeviceId: sz('acpiapic'),
      DriverDesc: sz('ACPI x64-based PC'),
      ProviderName: sz('Microsoft'),
    },
    [`${CS}\\Control\\Class\\{4d36e97b-e325-11ce-bfc1-08002be10318}`]: {
      '': sz('Storage controllers'),
      Class: sz('SCSIAdapter'),
      Icon: sz('-10'),
    },
    [`${CS}\\Control\\Class\\{4d36e967-e325-11ce-bfc1-08002be10318}`]: {
      '': sz('Disk drives'),
      Class: sz('DiskDrive'),
    },
    [`${CS}\\Control\\Class\\{4d36e972-e325-11ce-bfc1-08002be10318}`]: {
      '': sz('Network adapters'),
      Class: sz('Net'),
    },
    [`${CS}\\Control\\CriticalDeviceDatabase`]: {},
    [`${CS}\\Enum`]: {},
    [`${CS}\\Hardware Profiles\\0001`]: {},
    [`${CS}\\Services\\EventLog`]: sharedService(
      '%SystemRoot%\\System32\\svchost.exe -k LocalServiceNetworkRestricted -p',
      2,
      'NT AUTHORITY\\LocalService',
      'Windows Event Log',
    ),
    [`${CS}\\Services\\TermService`]: sharedService(
      '%SystemRoot%\\System32\\svchost.exe -k NetworkService',
      3,
      'NT Authority\\NetworkService',
      'Remote Desktop Services',
    ),
    [`${CS}\\Services\\W32Time`]: sharedService(
      '%SystemRoot%\\system32\\svchost.exe -k LocalService',
      3,
      'NT AUTHORITY\\LocalService',
      'Windows Time',
    ),
    [`${CS}\\Services\\WinRM`]: sharedService(
      '%SystemRoot%\\System32\\svchost.exe -k NetworkService -p',
      2,
      'NT AUTHORITY\\NetworkService',
      'Windows Remote Management (WS-Management)',
    ),
    [`${CS}\\Services\\Tcpip`]: driverService(
      'System32\\drivers\\tcpip.sys',
      0,
      'PNP_TDI',
      'TCP/IP Protocol Driver',
    ),
    [`${CS}\\Services\\Tcpip\\Parameters`]: {
      Hostname: sz(SAMPLE_PRODUCT.computerName),
      EnableDHCP: dword(1),
    },
    [`${CS}\\Services\\Ntfs`]: driverService('System32\\drivers\\Ntfs.sys', 3, 'Boot File System', 'Ntfs'),
    ...driverKeys(),
    DriverDatabase: { Architecture: dword(9) },
    'DriverDatabase\\DriverInfFiles': {},
    'DriverDatabase\\DeviceIds': {},
    'DriverDatabase\\DriverPackages': {},
  },
};

const SOFTWARE: SampleHive = {
  rootName: ROOT_NAME,
  keys: {
    [CURRENT_VERSION]: {
      BuildBranch: sz('fe_release'),
      BuildLab: sz(`${build}.fe_release.210507-1500`),
      BuildLabEx: sz(`${build}.1.amd64fre.fe_release.210507-1500`),
      CompositionEditionID: sz(SAMPLE_PRODUCT.editionId),
      CurrentBuild: sz(build),
      CurrentBuildNumber: sz(build),
      CurrentMajorVersionNumber: dword(SAMPLE_BUILD.major),
      CurrentMinorVersionNumber: dword(SAMPLE_BUILD.minor),
      CurrentType: sz('Multiprocessor Free'),
      CurrentVersion: sz('6.3'),
      DisplayVersion: sz('21H2'),
      EditionID: sz(SAMPLE_PRODUCT.editionId),
      InstallationType: sz(SAMPLE_PRODUCT.installationType),
      InstallDate: dword(0),
      InstallTime: qword(0n),
      PathName: sz('C:\\Windows'),
      ProductName: sz(SAMPLE_PRODUCT.productName),
      RegisteredOrganization: sz(''),
      RegisteredOwner: sz(''),
      ReleaseId: sz('2009'),
      SoftwareType: sz('System'),
      SystemRoot: sz('C:\\Windows'),
      UBR: dword(SAMPLE_BUILD.revision),
    },
    [`${CURRENT_VERSION}\\Winlogon`]: {
      Shell: sz('explorer.exe'),
      Userinit: sz('C:\\Windows\\system32\\userinit.exe,'),
      AutoAdminLogon: sz('0'),
    },
    [`${CURRENT_VERSION}\\ProfileList`]: {
      Default: expand('%SystemDrive%\\Users\\Default'),
      ProfilesDirectory: expand('%SystemDrive%\\Users'),
      ProgramData: expand('%SystemDrive%\\ProgramData'),
      Public: expand('%SystemDrive%\\Users\\Public'),
    },
    [`${CURRENT_VERSION}\\Time Zones\\Pacific Standard Time`]: {
      Display: sz('(UTC-08:00) Pacific Time (US & Canada)'),
      Std: sz('Pacific Standard Time'),
      Dlt: sz('Pacific Daylight Time'),
    },
    'Microsoft\\Windows\\CurrentVersion': {
      CommonFilesDir: sz('C:\\Program Files\\Common Files'),
      'CommonFilesDir (x86)': sz('C:\\Program Files (x86)\\Common Files'),
      CommonW6432Dir: sz('C:\\Program Files\\Common Files'),
      DevicePath: expand('%SystemRoot%\\inf'),
      MediaPathUnexpanded: expand('%SystemRoot%\\Media'),
      ProgramFilesDir: sz('C:\\Program Files'),
      'ProgramFilesDir (x86)': sz('C:\\Program Files (x86)'),
      ProgramFilesPath: expand('%ProgramFiles%'),
      ProgramW6432Dir: sz('C:\\Program Files'),
    },
    'Microsoft\\Windows\\CurrentVersion\\Setup': { SourcePath: sz('D:\\'), BootDir: sz('C:\\') },
    'Microsoft\\Windows\\CurrentVersion\\Setup\\State': {
      ImageState: sz(SAMPLE_IMAGE_STATE),
    },
    'Microsoft\\Windows\\CurrentVersion\\Setup\\OOBE': {},
    'Microsoft\\Windows\\CurrentVersion\\Run': {},
    'Microsoft\\Windows\\CurrentVersion\\RunOnce': {},
    'Microsoft\\Windows\\CurrentVersion\\Policies\\System': {
      EnableLUA: dword(1),
      ConsentPromptBehaviorAdmin: dword(5),
      FilterAdministratorToken: dword(0),
    },
    'Microsoft\\ServerManager': { DoNotOpenServerManagerAtLogon: dword(0) },
    'Policies\\Microsoft\\Windows': {},
    'Classes\\.txt': { '': sz('txtfile'), 'Content Type': sz('text/plain') },
    'Classes\\txtfile': { '': sz('Text Document') },
  },
};

/** The per-user settings of the default profile, shared by DEFAULT and Users\Default\NTUSER.DAT. */
const USER_KEYS: SampleHive['keys'] = {
  'Control Panel\\International': {
    Locale: sz('00000409'),
    LocaleName: sz(SAMPLE_PRODUCT.language),
    sCountry: sz('United States'),
    sDecimal: sz('.'),
    sList: sz(','),
    sShortDate: sz('M/d/yyyy'),
    sTimeFormat: sz('h:mm:ss tt'),
    iCountry: sz('1'),
  },
  'Control Panel\\Desktop': { Wallpaper: sz(''), ScreenSaveActive: sz('1') },
  'Keyboard Layout\\Preload': { '1': sz('00000409') },
  Environment: {
    TEMP: expand('%USERPROFILE%\\AppData\\Local\\Temp'),
    TMP: expand('%USERPROFILE%\\AppData\\Local\\Temp'),
  },
  'Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced': { HideFileExt: dword(1) },
  'Software\\Microsoft\\Windows\\CurrentVersion\\Run': {},
  'Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce': {},
  'Software\\Policies': {},
};

const DEFAULT: SampleHive = { rootName: ROOT_NAME, keys: USER_KEYS };

const NTUSER: SampleHive = {
  rootName: ROOT_NAME,
  keys: {
    ...USER_KEYS,
    'Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders': {
      Desktop: expand('%USERPROFILE%\\Desktop'),
      Personal: expand('%USERPROFILE%\\Documents'),
      AppData: expand('%USERPROFILE%\\AppData\\Roaming'),
      'Local AppData': expand('%USERPROFILE%\\AppData\\Local'),
    },
  },
};

/** Local accounts and groups by name; the value's type number is the account's relative ID. */
const SAM: SampleHive = {
  rootName: ROOT_NAME,
  keys: {
    'SAM\\Domains\\Account\\Users\\Names\\Administrator': { '': typed(0x1f4) },
    'SAM\\Domains\\Account\\Users\\Names\\Guest': { '': typed(0x1f5) },
    'SAM\\Domains\\Account\\Users\\Names\\DefaultAccount': { '': typed(0x1f7) },
    'SAM\\Domains\\Account\\Users\\Names\\WDAGUtilityAccount': { '': typed(0x1f8) },
    'SAM\\Domains\\Account\\Users\\000001F4': {},
    'SAM\\Domains\\Account\\Users\\000001F5': {},
    'SAM\\Domains\\Account\\Groups\\Names\\None': { '': typed(0x201) },
    'SAM\\Domains\\Account\\Aliases\\Names': {},
    'SAM\\Domains\\Builtin\\Aliases\\Names\\Administrators': { '': typed(0x220) },
    'SAM\\Domains\\Builtin\\Aliases\\Names\\Users': { '': typed(0x221) },
    'SAM\\Domains\\Builtin\\Aliases\\Names\\Guests': { '': typed(0x222) },
    'SAM\\Domains\\Builtin\\Aliases\\Names\\Remote Desktop Users': { '': typed(0x22b) },
    'SAM\\RXACT': {},
  },
};

/** The LSA policy store: empty containers, as in a freshly generalized image. */
const SECURITY: SampleHive = {
  rootName: ROOT_NAME,
  keys: {
    'Policy\\Accounts': {},
    'Policy\\PolAdtEv': {},
    'Policy\\PolPrDmN': {},
    'Policy\\PolAcDmN': {},
    'Policy\\Secrets': {},
    Cache: {},
    RXACT: {},
  },
};

export const SAMPLE_HIVES: Readonly<Record<SampleHiveName, SampleHive>> = {
  SYSTEM,
  SOFTWARE,
  DEFAULT,
  SAM,
  SECURITY,
  'NTUSER.DAT': NTUSER,
};
