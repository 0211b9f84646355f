// Benchmark: `winsmith image customize` against a full wimexport of the same image, same run.
//
//   npm run bench:customize [-- SIZE_BYTES]
//
// Makes a sample image of SIZE_BYTES (default 2 GiB) in a temporary folder, then times
//   A. customizeImage() with a 5-step recipe (files, registry, drivers, firstboot, metadata);
//   B. the baseline: wimExport of the whole image to a new WIM (what rewriting the image costs);
//   C. a plain copy of the WIM file (how customize starts its output for a one-image WIM);
//   D. customizeImageInPlace() with the same recipe on a copy of the sample (the copy, synced to
//      disk first, not timed);
// each ROUNDS times, one after the other in that order, and prints the best time of each and the
// ratios: D / B against the goal (≤ 0.2); A / B beside C / B, what any new output file costs at least
// (its bytes written once). Everything is removed after.

import { copyFile, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wimExport } from '../src/engines/wimlib.ts';
import { customizeImage, customizeImageInPlace } from '../src/image/recipe/customize.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { withTempDir } from '../src/io/output.ts';
import { timed } from './timed.ts';

const GiB = 1024 ** 3;
const imageBytes = Number(process.argv[2] ?? 2 * GiB);
const ROUNDS = 3;
const VIOSTOR_INF = new URL(
  '../../shared/fixtures/real/drivers/virtio-win-0.1.240/viostor/2k22/amd64/viostor.inf',
  import.meta.url,
);

await withTempDir(async (dir) => {
  const wim = join(dir, 'sample.wim');
  process.stderr.write(`making a sample image of ${imageBytes} bytes…\n`);
  const [, sampleSeconds] = await timed(() => buildSampleImage(wim, { size: imageBytes }));
  const wimSize = (await stat(wim)).size;
  process.stderr.write(`sample: ${wimSize} bytes of WIM in ${sampleSeconds.toFixed(1)} s\n`);

  const pkg = join(dir, 'viostor');
  await mkdir(pkg);
  await writeFile(join(pkg, 'viostor.inf'), await readFile(VIOSTOR_INF));
  await writeFile(join(pkg, 'viostor.sys'), 'winsmith stand-in for viostor.sys (benchmark)\r\n');
  await writeFile(join(pkg, 'viostor.cat'), 'winsmith stand-in for viostor.cat (benchmark)\r\n');
  const recipe = join(dir, 'recipe.yaml');
  await writeFile(
    recipe,
    [
      'customize:',
      "  - files: { add: [ { content: 'hello', dest: 'ProgramData\\winsmith\\hello.txt' } ], remove: [ 'Windows\\Temp\\*' ] }",
      "  - registry: { set: [ { key: 'HKLM\\SOFTWARE\\Contoso\\Build', name: Channel, data: stable } ] }",
      '  - drivers: [ ./viostor ]',
      "  - firstboot: [ { powershell: 'Write-Output ready' } ]",
      "  - metadata: { name: 'bench (custom)' }",
      '',
    ].join('\n'),
  );

  const best = { customize: Infinity, export: Infinity, copy: Infinity, inPlace: Infinity };
  for (let round = 1; round <= ROUNDS; round++) {
    process.stderr.write(`round ${round} of ${ROUNDS}…\n`);
    const outputs = ['custom.wim', 'export.wim', 'copy.wim', 'inplace.wim'].map((n) => join(dir, n));
    await Promise.all(outputs.map((o) => rm(o, { force: true })));
    const [custom, exported, copied, inPlace] = outputs as [string, string, string, string];
    const [, a] = await timed(() => customizeImage(wim, recipe, custom));
    const [, b] = await timed(() => wimExport(wim, 1, exported));
    const [, c] = await timed(() => copyFile(wim, copied));
    // The copy's pages must reach the disk before timing: wimlib syncs the WIM it writes, and would
    // otherwise pay for writing back the whole copy.
    await copyFile(wim, inPlace);
    const copy = await open(inPlace, 'r+');
    await copy.sync();
    await copy.close();
    const [, d] = await timed(() => customizeImageInPlace(inPlace, recipe));
    best.customize = Math.min(best.customize, a);
    best.export = Math.min(best.export, b);
    best.copy = Math.min(best.copy, c);
    best.inPlace = Math.min(best.inPlace, d);
  }
  const {
    customize: customizeSeconds,
    export: exportSeconds,
    copy: copySeconds,
    inPlace: inPlaceSeconds,
  } = best;
  const ratio = customizeSeconds / exportSeconds;
  const copyRatio = copySeconds / exportSeconds;
  const inPlaceRatio = inPlaceSeconds / exportSeconds;
  process.stdout.write(
    [
      `image: ${imageBytes} bytes of files, ${wimSize} bytes of WIM (LZX); best of ${ROUNDS} rounds`,
      `A. image customize, 5 steps: ${customizeSeconds.toFixed(2)} s`,
      `B. full wimexport:           ${exportSeconds.toFixed(2)} s`,
      `C. copy of the WIM file:     ${copySeconds.toFixed(2)} s`,
      `D. image customize --in-place: ${inPlaceSeconds.toFixed(2)} s`,
      `D / B = ${inPlaceRatio.toFixed(3)} (goal ≤ 0.2): ${inPlaceRatio <= 0.2 ? 'met' : 'NOT met'}`,
      `A / B = ${ratio.toFixed(3)} (a new output file: a copy alone is C / B = ${copyRatio.toFixed(3)})`,
      '',
    ].join('\n'),
  );
}, 'winsmith-bench-customize-');
