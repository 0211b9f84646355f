// A tiny WIM (one file under Windows\) captured into DIR/tiny.wim and pushed as lab/tiny:v1 by the
// CLI the caller gives: what the deployment commands' tests deploy.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wimCapture } from '../../src/engines/wimlib.ts';

export const TINY_IMAGE = 'lab/tiny:v1';

export async function pushTinyImage(dir: string, cli: (...args: string[]) => Promise<string>): Promise<void> {
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'Windows'), { recursive: true });
  await writeFile(join(tree, 'Windows', 'a.txt'), 'a');
  await wimCapture(tree, join(dir, 'tiny.wim'), { name: 'tiny', compression: 'none' });
  await cli('push', join(dir, 'tiny.wim'), TINY_IMAGE, '--init');
}
