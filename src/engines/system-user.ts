// The system account a service runs as, made with useradd (Debian `passwd`). Under another root
// (a staging tree) useradd --prefix edits ROOT/etc/passwd and its siblings, which must exist.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgram } from './run.ts';

export interface SystemUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** The account `name` of ROOT/etc/passwd, or null when there is none. */
export async function findSystemUser(root: string, name: string): Promise<SystemUser | null> {
  let text: string;
  try {
    text = await readFile(join(root, 'etc/passwd'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  for (const line of text.split('\n')) {
    // name:password:uid:gid:comment:home:shell (passwd(5))
    const [user, , uid, gid, , home] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined && home !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid), home };
    }
  }
  return null;
}

/** A system account with a group of its own name, no login shell and `home` (not created). */
export async function addSystemUser(
  root: string,
  user: { readonly name: string; readonly home: string; readonly comment: string },
): Promise<SystemUser> {
  await runProgram('useradd', [
    ...(root === '/' ? [] : ['--prefix', root]),
    '--system',
    '--user-group',
    '--home-dir',
    user.home,
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    user.comment,
    user.name,
  ]);
  const made = await findSystemUser(root, user.name);
  if (made === null)
    throw new Error(`useradd reported success but ${user.name} is not in ${root}/etc/passwd`);
  return made;
}
