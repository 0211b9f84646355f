// Benchmark: the capture that ends a reference build — a VM's qcow2 disk to an image in a
// repository — against plain wimcapture from a raw partition file, in the same run.
//
//   npm run bench:build-capture [-- SIZE_BYTES=1GiB [ROUNDS=2]]
//
// Makes a sample image of SIZE_BYTES (default 1 GiB) and a bootable UEFI qcow2 disk from it (the
// VM's disk after Sysprep), and the Windows partition of that disk as a raw file. Then times,
// alternately, ROUNDS times each:
//   A. winsmith's path, as a user runs it in one command: `image capture DISK.qcow2 --push
//      NAME:TAG` into a data-directory repository (a new one each round): the partition table read
//      by our GPT code, the Windows partition copied out through qemu's raw driver, captured with
//      LZX into a scratch WIM, stored in one pass (chunks cut, hashed and written while the file's
//      SHA-256 is computed), the scratch removed;
//   B. the baseline: `wimcapture` of the raw partition file into a local WIM with LZX.
// Prints each side's median and best time and the ratio of the medians (the goal is ≤ 1.1).

import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wimCapture } from '../src/engines/wimlib.ts';
import { buildDiskImage } from '../src/image/disk/build.ts';
import { extractPartition, openDiskImage, readDiskTable } from '../src/image/disk/partitions.ts';
import { GiB } from '../src/image/disk/size.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { withTempDir } from '../src/io/output.ts';
import { median, timed } from './timed.ts';

const imageBytes = Number(process.argv[2] ?? GiB);
const rounds = Number(process.argv[3] ?? 2);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function winsmith(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`winsmith ${args.join(' ')}: exit ${code}`)),
    );
  });
}

await withTempDir(async (dir) => {
  const wim = join(dir, 'sample.wim');
  process.stderr.write(`making a sample image of ${imageBytes} bytes and its qcow2 disk…\n`);
  await buildSampleImage(wim, { size: imageBytes });
  const disk = join(dir, 'vm.qcow2');
  await buildDiskImage({ source: wim, output: disk, format: 'qcow2', firmware: 'uefi', size: 16 * GiB });
  const image = { path: disk, ...(await openDiskImage(disk)) };
  const table = await readDiskTable(image, dir);
  const windows = [...table.candidates].sort((a, b) => b.sectorCount - a.sectorCount)[0];
  if (windows === undefined) throw new Error('the disk has no Windows partition');
  const raw = await extractPartition(image, windows, join(dir, 'windows.raw'));

  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const local = join(dir, 'local.wim');
    const [, baseline] = await timed(() => wimCapture(raw, local, { name: 'baseline', compression: 'LZX' }));
    await rm(local);
    b.push(baseline);

    const repo = join(dir, 'repo');
    const [, ours] = await timed(() =>
      winsmith([
        'image',
        'capture',
        disk,
        '--push',
        `bench/captured:r${round}`,
        '--repo',
        repo,
        '--init',
        '--name',
        'captured',
        '--compress',
        'lzx',
      ]),
    );
    await rm(repo, { recursive: true });
    a.push(ours);
    process.stderr.write(
      `round ${round + 1}: winsmith image capture --push ${ours.toFixed(2)} s, wimcapture ${baseline.toFixed(2)} s\n`,
    );
  }
  const ratio = median(a) / median(b);
  process.stdout.write(
    [
      `image: ${imageBytes} bytes of files on a 16 GiB qcow2 disk (Windows partition ${windows.number})`,
      `winsmith image capture --push: median ${median(a).toFixed(2)} s, best ${Math.min(...a).toFixed(2)} s`,
      `wimcapture (raw partition):     median ${median(b).toFixed(2)} s, best ${Math.min(...b).toFixed(2)} s`,
      `ratio: ${ratio.toFixed(3)} (goal ≤ 1.1)`,
      '',
    ].join('\n'),
  );
});
