// What each command group is for, as `winsmith --help` lists it.

export const GROUP_SUMMARIES: Readonly<Record<string, string>> = {
  image: 'inspect, capture, apply, change and compare WIM images',
  reg: 'read and edit registry hives offline',
  bcd: 'read and write BCD boot stores offline (bcdboot and bcdedit from Linux)',
  unattend: 'render and check unattend.xml answer files',
  media: 'read Windows installation media (UDF ISOs)',
  store: 'check, clean and measure a repository’s storage',
  user: 'manage the users of a repository',
  token: 'manage API tokens',
  machine: 'register, approve, show, rename, label and remove machines; read their password',
  profile: 'apply, show and remove deployment profiles',
  deployment: 'show, follow, cancel and retry one deployment',
  lab: 'try a whole network deployment on this host: a private network, a server and a VM',
  bootenv: 'build the deploy environment machines boot into to be deployed, and pin its packages',
};
