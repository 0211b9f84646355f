// The deploy agent's entry point, as the deploy environment runs it (`node /winsmith/agent.mjs`):
// for now it says which agent it is and what the kernel command line gives it, then ends.
// The bundle defines process.env.WINSMITH_VERSION as the version of winsmith that built it.

import { readFileSync } from 'node:fs';

/** Parameters of the kernel command line that may be printed as they are; the rest are masked. */
const SHOWN = new Set([
  'winsmith.server',
  'winsmith.deployment',
  'winsmith.selftest',
  'winsmith.debug',
  'winsmith.dhcptimeout',
]);

const version = process.env.WINSMITH_VERSION ?? 'unknown';
console.log(`winsmith agent ${version}`);
for (const word of readFileSync('/proc/cmdline', 'utf8').trim().split(/\s+/)) {
  const [name = '', ...rest] = word.split('=');
  if (!name.startsWith('winsmith.')) continue;
  console.log(`${name}=${SHOWN.has(name) ? rest.join('=') : '(set)'}`);
}
