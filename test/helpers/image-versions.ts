// Two versions of a small Windows-like image, for the tests that look inside stored images: version
// 2 changes Windows\a.txt and a value of the SOFTWARE hive (written by our regf code), drops
// Windows\gone.txt and adds Windows\new.txt. Each is captured by wimlib and pushed with its
// editions recorded, and with the lineage given.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactMetaOf } from '../../src/app/artifact-meta.ts';
import { pushFile } from '../../src/app/transfer.ts';
import { wimCapture } from '../../src/engines/wimlib.ts';
import { encodeRegData, Hive, REG_TYPES } from '../../src/formats/regf/index.ts';
import type { ImageRecord, Repository } from '../../src/store/repository.ts';

function softwareHive(version: number): Uint8Array {
  const hive = Hive.create('ROOT');
  hive
    .ensureKey('Contoso\\App')
    .setValue('Version', REG_TYPES.REG_DWORD, encodeRegData(REG_TYPES.REG_DWORD, version));
  return hive.serialize();
}

async function writeTree(root: string, version: 1 | 2): Promise<void> {
  await mkdir(join(root, 'Windows', 'System32', 'config'), { recursive: true });
  await mkdir(join(root, 'Windows', 'Fonts'), { recursive: true });
  await mkdir(join(root, 'Program Files'), { recursive: true });
  await writeFile(join(root, 'Windows', 'System32', 'config', 'SOFTWARE'), softwareHive(version));
  await writeFile(join(root, 'Windows', 'a.txt'), version === 1 ? 'one' : 'two, longer');
  for (const f of ['c.ttf', 'a.ttf', 'b.ttf']) await writeFile(join(root, 'Windows', 'Fonts', f), f);
  if (version === 1) await writeFile(join(root, 'Windows', 'gone.txt'), 'gone');
  else await writeFile(join(root, 'Windows', 'new.txt'), 'new');
}

/** Captures version `version` under `dir` and pushes it as `ref`; its record. */
export async function pushImageVersion(
  images: Repository,
  dir: string,
  version: 1 | 2,
  ref: { readonly name: string; readonly tag: string },
  lineage: {
    readonly parentDigest?: string | null;
    readonly sourceIsoSha256?: string | null;
    readonly recipe?: unknown;
  } = {},
): Promise<ImageRecord> {
  const base = join(dir, `${ref.name.replaceAll('/', '-')}-${ref.tag}`);
  await writeTree(`${base}-tree`, version);
  const wim = `${base}.wim`;
  await wimCapture(`${base}-tree`, wim, { name: `Windows Server 2022 v${version}`, compression: 'none' });
  const meta = await artifactMetaOf(wim, lineage);
  const pushed = await pushFile(images, wim, ref, {
    ...meta,
    ...(lineage.recipe === undefined ? {} : { recipe: lineage.recipe }),
  });
  return pushed.image;
}
