// The answer media of a build: an ISO 9660 image with Joliet names (what Windows Setup reads from a
// CD), labelled WINSMITH, made by xorriso. Generated files are written to a scratch folder; host
// files (scripts, tools, update packages of any size) are grafted in where they are, never copied.
// The ISO appears whole or not at all.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runProgram } from '../engines/run.ts';
import { withTempDir, writeOutputFile } from '../io/output.ts';
import { ANSWER_MEDIA_LABEL } from './autounattend.ts';
import type { MediaFile } from './provision-plan.ts';

/** A graft point `media=host`: xorriso reads `\` and `=` in either side as escapes. */
function graftPoint(mediaPath: string, hostPath: string): string {
  const escape = (p: string): string => p.replace(/[\\=]/g, (c) => `\\${c}`);
  return `${escape(mediaPath)}=${escape(hostPath)}`;
}

/** Writes `files` to the ISO `dest`. */
export async function writeAnswerMedia(
  dest: string,
  files: readonly MediaFile[],
  options: { readonly overwrite?: boolean } = {},
): Promise<void> {
  await withTempDir(async (scratch) => {
    const grafts: string[] = [];
    for (const file of files) {
      if ('host' in file) {
        grafts.push(graftPoint(file.path, file.host));
        continue;
      }
      const staged = join(scratch, file.path);
      await mkdir(dirname(staged), { recursive: true });
      await writeFile(staged, file.text.replace(/\r?\n/g, '\r\n'));
      grafts.push(graftPoint(file.path, staged));
    }
    await writeOutputFile(
      dest,
      (tmp) =>
        runProgram('xorriso', [
          ...['-as', 'mkisofs', '-quiet', '-volid', ANSWER_MEDIA_LABEL],
          ...['-joliet', '-joliet-long', '-rational-rock', '-graft-points', '-output', tmp],
          ...grafts,
        ]),
      options,
    );
  }, 'winsmith-answer');
}
