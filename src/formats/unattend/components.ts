// Where Windows accepts each component and its settings: the "Valid Configuration Passes" of each
// page of Microsoft's Unattended Windows Setup Reference
// (learn.microsoft.com/windows-hardware/customize/desktop/unattend/<component>-<setting>), for the
// components winsmith writes and those administrators use most on Windows Server. A setting's own
// passes are given where they are narrower than its component's.

import type { UnattendPass } from './model.ts';

export interface ComponentRule {
  /** The passes the component is valid in (the union of its settings' passes). */
  readonly passes: readonly UnattendPass[];
  /** Top-level settings by name, with their passes when narrower than the component's. */
  readonly settings: Readonly<Record<string, readonly UnattendPass[] | null>>;
}

const PE: UnattendPass[] = ['windowsPE'];
const SPECIALIZE: UnattendPass[] = ['specialize'];
const OOBE: UnattendPass[] = ['oobeSystem'];

export const COMPONENT_RULES: Readonly<Record<string, ComponentRule>> = {
  'Microsoft-Windows-Setup': {
    passes: PE,
    settings: {
      ComplianceCheck: null,
      Diagnostics: null,
      DiskConfiguration: null,
      DynamicUpdate: null,
      EnableFirewall: null,
      EnableNetwork: null,
      ImageInstall: null,
      LogPath: null,
      Restart: null,
      RunAsynchronous: null,
      RunSynchronous: null,
      UpgradeData: null,
      UseConfigurationSet: null,
      UserData: null,
      WindowsDeploymentServices: null,
    },
  },
  'Microsoft-Windows-International-Core-WinPE': {
    passes: PE,
    settings: {
      InputLocale: null,
      LayeredDriver: null,
      SetupUILanguage: null,
      SystemLocale: null,
      UILanguage: null,
      UILanguageFallback: null,
      UserLocale: null,
    },
  },
  'Microsoft-Windows-International-Core': {
    passes: ['specialize', 'oobeSystem'],
    settings: {
      InputLocale: null,
      SystemLocale: null,
      UILanguage: null,
      UILanguageFallback: null,
      UserLocale: null,
    },
  },
  'Microsoft-Windows-Shell-Setup': {
    passes: ['offlineServicing', 'specialize', 'auditSystem', 'auditUser', 'oobeSystem'],
    settings: {
      AutoLogon: ['specialize', 'auditSystem', 'oobeSystem'],
      BluetoothTaskbarIconEnabled: ['specialize', 'auditSystem', 'oobeSystem'],
      ComputerName: SPECIALIZE,
      CopyProfile: SPECIALIZE,
      DisableAutoDaylightTimeSet: ['specialize', 'auditSystem', 'oobeSystem'],
      Display: ['specialize', 'auditSystem', 'oobeSystem'],
      DoNotCleanTaskBar: ['specialize', 'auditSystem', 'oobeSystem'],
      FirstLogonCommands: OOBE,
      FolderLocations: OOBE,
      LogonCommands: ['auditUser', 'oobeSystem'],
      OEMInformation: ['specialize', 'auditSystem', 'oobeSystem'],
      OEMName: ['specialize', 'oobeSystem'],
      OfflineUserAccounts: ['offlineServicing'],
      OOBE: OOBE,
      ProductKey: SPECIALIZE,
      RegisteredOrganization: ['specialize', 'auditSystem', 'oobeSystem'],
      RegisteredOwner: ['specialize', 'auditSystem', 'oobeSystem'],
      ShowWindowsLive: ['specialize', 'auditSystem', 'oobeSystem'],
      StartPanelOff: ['specialize', 'auditSystem', 'oobeSystem'],
      TaskbarLinks: ['specialize', 'auditSystem', 'oobeSystem'],
      Themes: ['specialize', 'auditSystem', 'oobeSystem'],
      TimeZone: ['specialize', 'auditSystem', 'oobeSystem'],
      UserAccounts: ['auditSystem', 'oobeSystem'],
      VisualEffects: ['specialize', 'auditSystem', 'oobeSystem'],
      WindowsFeatures: ['specialize', 'auditSystem', 'oobeSystem'],
    },
  },
  'Microsoft-Windows-Deployment': {
    passes: ['offlineServicing', 'specialize', 'auditSystem', 'auditUser', 'oobeSystem'],
    settings: {
      DeviceForm: ['offlineServicing'],
      ExtendOSPartition: ['auditSystem'],
      Generalize: ['auditUser'],
      Reseal: ['auditSystem', 'auditUser', 'oobeSystem'],
      RunAsynchronous: ['specialize', 'auditUser'],
      RunSynchronous: ['specialize', 'auditUser'],
    },
  },
  'Microsoft-Windows-UnattendedJoin': { passes: SPECIALIZE, settings: { Identification: null } },
  'Microsoft-Windows-TCPIP': {
    passes: ['windowsPE', 'specialize'],
    settings: { IcmpRedirectsEnabled: null, Interfaces: null },
  },
  'Microsoft-Windows-DNS-Client': {
    passes: ['windowsPE', 'specialize'],
    settings: {
      DNSDomain: null,
      DNSSuffixSearchOrder: null,
      DisableDynamicUpdate: null,
      EnableAdapterDomainNameRegistration: null,
      Interfaces: null,
      UseDomainNameDevolution: null,
    },
  },
  'Microsoft-Windows-PnpCustomizationsWinPE': { passes: PE, settings: { DriverPaths: null } },
  'Microsoft-Windows-PnpCustomizationsNonWinPE': {
    passes: ['offlineServicing', 'auditSystem'],
    settings: { DriverPaths: null },
  },
  'Microsoft-Windows-PnpSysprep': {
    passes: ['generalize'],
    settings: { DoNotCleanUpNonPresentDevices: null, PersistAllDeviceInstalls: null },
  },
  'Microsoft-Windows-Security-SPP': {
    passes: ['generalize', 'specialize'],
    settings: { SkipRearm: ['generalize'], KmsHost: SPECIALIZE, KmsPort: SPECIALIZE },
  },
  'Microsoft-Windows-Security-SPP-UX': { passes: SPECIALIZE, settings: { SkipAutoActivation: null } },
  'Microsoft-Windows-TerminalServices-LocalSessionManager': {
    passes: ['offlineServicing', 'generalize', 'specialize'],
    settings: { fDenyTSConnections: null },
  },
  'Microsoft-Windows-TerminalServices-RDP-WinStationExtensions': {
    passes: ['generalize', 'specialize'],
    settings: { SecurityLayer: null, UserAuthentication: null },
  },
  'Networking-MPSSVC-Svc': {
    passes: ['specialize'],
    settings: {
      DisableStatefulFTP: null,
      DisableStatefulPPTP: null,
      DomainProfile_EnableFirewall: null,
      FirewallGroups: null,
      PrivateProfile_EnableFirewall: null,
      PublicProfile_EnableFirewall: null,
    },
  },
  'Microsoft-Windows-ServerManager-SvrMgrNc': {
    passes: ['specialize'],
    settings: { DoNotOpenServerManagerAtLogon: null, DoNotPopWACConsoleAtSMLaunch: null },
  },
  'Microsoft-Windows-IE-ESC': {
    passes: ['specialize'],
    settings: { IEHardenAdmin: null, IEHardenUser: null },
  },
  'Microsoft-Windows-LUA-Settings': {
    passes: ['offlineServicing', 'generalize', 'specialize'],
    settings: { EnableLUA: null },
  },
};

/** The passes a setting of a known component is valid in, or undefined when the table lacks it. */
export function settingPasses(component: string, setting: string): readonly UnattendPass[] | undefined {
  const rule = COMPONENT_RULES[component];
  if (rule === undefined || !(setting in rule.settings)) return undefined;
  return rule.settings[setting] ?? rule.passes;
}
