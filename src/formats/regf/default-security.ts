// The security descriptor of a new hive's root key (and of every key created below it, which
// inherit the parent's sk cell). Layout: [MS-DTYP] 2.4.6 SECURITY_DESCRIPTOR (self-relative),
// 2.4.5 ACL, 2.4.4.2 ACCESS_ALLOWED_ACE, 2.4.2.2 SID; stored in an sk cell as msuhanov's regf
// specification, § Key security, describes.
// Owner BUILTIN\Administrators, group NT AUTHORITY\SYSTEM; the DACL gives full control to SYSTEM
// and Administrators and read access to Users, inherited by subkeys (CONTAINER_INHERIT_ACE):
// the usual grant of a machine hive's keys.

import { writeU16, writeU32 } from './layout.ts';

const SE_DACL_PRESENT = 0x0004;
const SE_SELF_RELATIVE = 0x8000;
const ACCESS_ALLOWED_ACE_TYPE = 0;
const CONTAINER_INHERIT_ACE = 0x02;
const KEY_ALL_ACCESS = 0xf003f;
const KEY_READ = 0x20019;
const SECURITY_NT_AUTHORITY = 5;

/** S-1-5-<sub...> as bytes. */
function sid(...subAuthorities: number[]): Uint8Array {
  const out = new Uint8Array(8 + 4 * subAuthorities.length);
  out[0] = 1;
  out[1] = subAuthorities.length;
  out[7] = SECURITY_NT_AUTHORITY;
  subAuthorities.forEach((s, i) => writeU32(out, 8 + 4 * i, s));
  return out;
}

const SYSTEM = sid(18);
const ADMINISTRATORS = sid(32, 544);
const USERS = sid(32, 545);

function ace(mask: number, who: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + who.length);
  out[0] = ACCESS_ALLOWED_ACE_TYPE;
  out[1] = CONTAINER_INHERIT_ACE;
  writeU16(out, 2, out.length);
  writeU32(out, 4, mask);
  out.set(who, 8);
  return out;
}

export function defaultSecurityDescriptor(): Uint8Array {
  const aces = [ace(KEY_ALL_ACCESS, SYSTEM), ace(KEY_ALL_ACCESS, ADMINISTRATORS), ace(KEY_READ, USERS)];
  const aclSize = 8 + aces.reduce((n, a) => n + a.length, 0);
  const ownerAt = 20;
  const groupAt = ownerAt + ADMINISTRATORS.length;
  const daclAt = groupAt + SYSTEM.length;
  const out = new Uint8Array(daclAt + aclSize);
  out[0] = 1;
  writeU16(out, 2, SE_DACL_PRESENT | SE_SELF_RELATIVE);
  writeU32(out, 4, ownerAt);
  writeU32(out, 8, groupAt);
  writeU32(out, 12, 0);
  writeU32(out, 16, daclAt);
  out.set(ADMINISTRATORS, ownerAt);
  out.set(SYSTEM, groupAt);
  out[daclAt] = 2;
  writeU16(out, daclAt + 2, aclSize);
  writeU16(out, daclAt + 4, aces.length);
  let at = daclAt + 8;
  for (const a of aces) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
