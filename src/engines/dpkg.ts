// Debian package files unpacked as any user: dpkg-deb -x writes a .deb's files into a directory,
// nothing is installed and no maintainer script runs.

import { runProgram } from './run.ts';

/** Unpacks the files of `deb` into `dir` (which must exist). */
export async function dpkgExtract(deb: string, dir: string): Promise<void> {
  await runProgram('dpkg-deb', ['--extract', deb, dir]);
}
