// Benchmark: `winsmith disk` against plain wimapply, in the same run on the same image.
//
//   npm run bench:disk [-- SIZE_BYTES=1GiB [DISK_SIZE=40GiB [ROUNDS=2]]]
//
// Makes a sample image of SIZE_BYTES (default 1 GiB), then times
//   A. a whole bootable UEFI disk: buildDiskImage() — the code behind `winsmith disk` — to a sparse
//      raw file of DISK_SIZE;
//   B. the baseline: mkntfs on a sparse file of the same Windows-partition size, then wimapply of the
//      same image into it — the least any tool must do to put this image on NTFS;
// alternately, ROUNDS times each, and prints the best times and the ratio A / B (the goal is ≤ 1.2).

import { rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeNtfs } from '../src/engines/ntfs.ts';
import { wimApply } from '../src/engines/wimlib.ts';
import { buildDiskImage } from '../src/image/disk/build.ts';
import { DEFAULT_LAYOUTS, planDisk } from '../src/image/disk/layout.ts';
import { GiB } from '../src/image/disk/size.ts';
import { NIL_GUID } from '../src/formats/guid.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { withTempDir } from '../src/io/output.ts';
import { timed } from './timed.ts';

const imageBytes = Number(process.argv[2] ?? GiB);
const diskBytes = Number(process.argv[3] ?? 40 * GiB);
const rounds = Number(process.argv[4] ?? 2);

await withTempDir(async (dir) => {
  const wim = join(dir, 'sample.wim');
  process.stderr.write(`making a sample image of ${imageBytes} bytes…\n`);
  const [, sampleSeconds] = await timed(() => buildSampleImage(wim, { size: imageBytes }));
  process.stderr.write(`sample: ${(await stat(wim)).size} bytes of WIM in ${sampleSeconds.toFixed(1)} s\n`);
  const plan = planDisk(DEFAULT_LAYOUTS.uefi, diskBytes, {
    diskGuid: NIL_GUID,
    diskSignature: 1,
    partitionGuids: [NIL_GUID, NIL_GUID, NIL_GUID],
  });
  const windowsPlan = plan.partitions.find((p) => p.role === 'windows');
  if (windowsPlan === undefined) throw new Error('no Windows partition in the default layout');
  const windowsSize = windowsPlan.size;
  const windowsStart = windowsPlan.firstLba;

  // A and B alternate (B A B A …) so that neither is favoured by a warm cache or by what else the
  // machine is doing; each keeps its best time.
  let diskSeconds = Infinity;
  let applySeconds = Infinity;
  let allocated = 0;
  for (let round = 0; round < rounds; round++) {
    const volume = join(dir, 'windows.ntfs');
    const [, apply] = await timed(async () => {
      await writeFile(volume, new Uint8Array(0));
      await truncate(volume, windowsSize);
      await makeNtfs(volume, { label: 'Windows', startSector: windowsStart });
      await wimApply(wim, 1, volume);
    });
    await rm(volume);
    applySeconds = Math.min(applySeconds, apply);

    const disk = join(dir, 'disk.raw');
    const [result, seconds] = await timed(() =>
      buildDiskImage({ source: wim, output: disk, format: 'raw', firmware: 'uefi', size: diskBytes }),
    );
    const windows = result.plan.partitions.find((p) => p.role === 'windows');
    if (windows?.size !== windowsSize) throw new Error('the disk plan changed the Windows partition');
    allocated = result.allocatedBytes;
    await rm(disk);
    diskSeconds = Math.min(diskSeconds, seconds);
    process.stderr.write(
      `round ${round + 1}: disk ${seconds.toFixed(2)} s, mkntfs + wimapply ${apply.toFixed(2)} s\n`,
    );
  }

  const ratio = diskSeconds / applySeconds;
  process.stdout.write(
    [
      `image: ${imageBytes} bytes of files, disk ${diskBytes} bytes (${allocated} allocated)`,
      `winsmith disk (UEFI, raw): ${diskSeconds.toFixed(2)} s`,
      `mkntfs + wimapply:         ${applySeconds.toFixed(2)} s`,
      `ratio: ${ratio.toFixed(3)} (goal ≤ 1.2)`,
      '',
    ].join('\n'),
  );
}, 'winsmith-bench-disk-');
