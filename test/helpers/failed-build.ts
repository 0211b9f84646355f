// A build the server ran that failed at once, for the tests that need a build to show: its recipe's
// ISO, in the deployment share, is not the one its SHA-256 names. Started by the CLI on the data
// directory; resolves once the server has failed it.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalApp } from '../../src/app/local-app.ts';

export interface FailedBuild {
  readonly id: string;
  /** The recipe's text. */
  readonly recipe: string;
}

export interface FailedBuildOptions {
  /** NAME:TAG the recipe stores into. */
  readonly output: string;
  /** The SHA-256 the recipe pins (any but the ISO's); zeros by default. */
  readonly isoSha256?: string;
  /** Who starts it (its owner); `setup` by default. */
  readonly user?: string;
}

export async function failedBuild(
  app: LocalApp,
  dataDir: string,
  { output, isoSha256 = '0'.repeat(64), user = 'setup' }: FailedBuildOptions,
): Promise<FailedBuild> {
  await mkdir(join(dataDir, 'share'), { recursive: true });
  await writeFile(join(dataDir, 'share', 'windows.iso'), 'not the ISO the recipe names');
  const failed = new Promise<void>((resolve) => {
    const stop = app.events.subscribe((e) => {
      if (e.kind === 'build' && (e.result as { state: string }).state === 'failed') {
        stop();
        resolve();
      }
    });
  });
  const recipe = `source: { iso: windows.iso, sha256: '${isoSha256}', edition: 1 }\noutput: { tag: ${output} }\n`;
  const { id } = await app.as({ user, client: 'local' }).builds.start({ recipe, file: 'ws2022.yaml' });
  await failed;
  return { id, recipe };
}
