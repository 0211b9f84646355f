// Benchmark: the chunk store's deduplication and ingest speed against BorgBackup, same files, same run.
//
//   npm run bench:dedup [-- --size BYTES] [-- --seed N] [-- --compression none|XPRESS|LZX]
//
// 1. Makes a sample image (src/image/sample) of --size bytes of files (default 1 GiB, captured
//    without compression by default, so the WIM is a little over 1 GiB), then five more versions,
//    each from the previous by `image customize` with a recipe that replaces ~3% of the image's files
//    (chosen at random, seeded) with new content of the same size.
// 2. Stores the six WIMs, one after the other, into a ChunkStore on the filesystem (fsync on; each
//    file read by ChunkStore.ingestFile, as borg reads it), and archives the same six files with
//    `borg create --compression none` into a fresh unencrypted repository; the two alternate per
//    version (ours first on odd versions) and each is timed.
// 3. Prints stored bytes / unique bytes, where "unique bytes" is the size of the distinct content of
//    the six files measured at fine granularity: the sum of the distinct chunks found by the same
//    content-defined chunker at 2 KiB min / 8 KiB avg / 64 KiB max. Borg's own deduplicated size
//    (its chunker, 512 KiB min / 2 MiB avg / 8 MiB max) is printed beside it as a second reference.
//    Then ingest throughput (bytes of the six files / wall time) ours / borg's.
// Everything is made in a temporary folder and removed after. Borg is the `borg` program of Debian
// `borgbackup` (scripts/system-packages.txt), run directly.

import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { wimListFiles, type WimCompression } from '../src/engines/wimlib.ts';
import { customizeImage } from '../src/image/recipe/customize.ts';
import { buildSampleImage } from '../src/image/sample/build-sample.ts';
import { createPrng } from '../src/image/sample/prng.ts';
import { withTempDir } from '../src/io/output.ts';
import { FsBlobStore } from '../src/store/blob-store-fs.ts';
import { chunkStream } from '../src/store/chunker.ts';
import { ChunkStore } from '../src/store/chunk-store.ts';
import { MEDIA_TYPES } from '../src/store/manifest.ts';
import { timed } from './timed.ts';

const GiB = 1024 ** 3;
const VERSIONS = 6;
const CHANGED_SHARE = 0.03;
const FINE_CHUNKER = { minSize: 2 * 1024, avgSize: 8 * 1024, maxSize: 64 * 1024 };
const READ_PIECE = 1024 * 1024;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: String(GiB) },
    seed: { type: 'string', default: '2022' },
    compression: { type: 'string', default: 'none' },
  },
});
const size = Number(values.size);
const seed = Number(values.seed);
const compression = values.compression as WimCompression;
if (!Number.isSafeInteger(size) || size <= 0 || !Number.isSafeInteger(seed)) {
  throw new Error(`--size ${values.size} / --seed ${values.seed}: expected positive integers`);
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Seeded pseudo-random bytes (AES-128-CTR over zeros): new content for a changed file. */
function newContent(fileSeed: string, length: number): Buffer {
  const key = createHash('sha256').update(fileSeed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

const execFileAsync = promisify(execFile);

/** Runs borg with its cache and configuration in `baseDir`, apart from the user's; its stdout. */
async function borg(baseDir: string, args: readonly string[]): Promise<string> {
  // Borg refuses an unencrypted repository it has not seen before unless told this.
  const env = { ...process.env, BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes', BORG_BASE_DIR: baseDir };
  const { stdout } = await execFileAsync('borg', args, { env, encoding: 'utf8' });
  return stdout;
}

/** The repository's distinct chunks (before compression), from `borg info --json`. */
async function borgUnique(baseDir: string, repo: string): Promise<{ size: number; chunks: number }> {
  const info = JSON.parse(await borg(baseDir, ['info', '--json', repo])) as {
    cache?: { stats?: { unique_size?: number; total_unique_chunks?: number } };
  };
  const stats = info.cache?.stats;
  if (stats?.unique_size === undefined || stats.total_unique_chunks === undefined) {
    throw new Error('borg info --json printed no cache.stats with sizes (borgbackup 1.2 expected)');
  }
  return { size: stats.unique_size, chunks: stats.total_unique_chunks };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

await withTempDir(async (dir) => {
  const wims: string[] = [join(dir, 'v1.wim')];
  log(`making the sample image: ${size} bytes of files, compression ${compression}, seed ${seed}…`);
  const [sample, sampleSeconds] = await timed(() =>
    buildSampleImage(wims[0] as string, { size, seed, compression }),
  );
  log(`v1: ${sample.fileCount} files, ${sample.wimBytes} bytes of WIM in ${sampleSeconds.toFixed(1)} s`);
  const files = (await wimListFiles(wims[0] as string, 1)).filter((f) => !f.isDir && f.size > 0);
  const rng = createPrng(seed ^ 0x0dedbeef);
  let changedBytes = 0;
  let changedFiles = 0;
  for (let v = 2; v <= VERSIONS; v++) {
    const work = join(dir, `changes-v${v}`);
    await mkdir(work);
    const count = Math.ceil(files.length * CHANGED_SHARE);
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(rng.below(files.length));
    const add = [];
    for (const i of chosen) {
      const file = files[i];
      if (file === undefined) continue;
      const src = join(work, `${i}.bin`);
      await writeFile(src, newContent(`${seed}/${v}/${file.path}`, file.size));
      add.push({ src, dest: file.path });
      changedBytes += file.size;
      changedFiles++;
    }
    const recipe = join(work, 'recipe.yaml');
    // JSON is YAML: paths with any character stay intact.
    await writeFile(recipe, `customize:\n  - files: ${JSON.stringify({ add })}\n`);
    const out = join(dir, `v${v}.wim`);
    const [, seconds] = await timed(() => customizeImage(wims[v - 2] as string, recipe, out));
    wims.push(out);
    log(
      `v${v}: ${chosen.size} of ${files.length} files replaced by image customize in ${seconds.toFixed(1)} s`,
    );
  }
  const sizes = await Promise.all(wims.map(async (w) => (await stat(w)).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);

  const blobs = new FsBlobStore(join(dir, 'store'));
  const store = new ChunkStore(blobs);
  const borgRepo = join(dir, 'borg-repo');
  const borgBase = join(dir, 'borg-base');
  await borg(borgBase, ['init', '--encryption', 'none', borgRepo]);
  let oursSeconds = 0;
  let borgSeconds = 0;
  for (const [i, wim] of wims.entries()) {
    const ours = async (): Promise<void> => {
      const [result, seconds] = await timed(() => store.ingestFile(wim, MEDIA_TYPES.wim));
      oursSeconds += seconds;
      log(
        `  winsmith v${i + 1}: ${seconds.toFixed(2)} s, ${result.newChunks} new chunks, ${mb(result.newBytes)} new`,
      );
    };
    const theirs = async (): Promise<void> => {
      const [, seconds] = await timed(() =>
        borg(borgBase, ['create', '--compression', 'none', `${borgRepo}::v${i + 1}`, wim]),
      );
      borgSeconds += seconds;
      log(`  borg     v${i + 1}: ${seconds.toFixed(2)} s`);
    };
    if (i % 2 === 0) {
      await ours();
      await theirs();
    } else {
      await theirs();
      await ours();
    }
  }

  const stats = await store.stats();
  let manifestBytes = 0;
  for await (const info of blobs.listInfo('manifests/')) manifestBytes += info.size;
  const storedBytes = stats.storedBytes + manifestBytes;

  log('measuring unique content at fine granularity (2/8/64 KiB chunks)…');
  const fine = new Map<string, number>();
  for (const wim of wims) {
    for await (const chunk of chunkStream(
      createReadStream(wim, { highWaterMark: READ_PIECE }),
      FINE_CHUNKER,
    )) {
      fine.set(chunk.digest, chunk.size);
    }
  }
  let uniqueBytes = 0;
  for (const s of fine.values()) uniqueBytes += s;
  const borgStats = await borgUnique(borgBase, borgRepo);

  const dedupRatio = storedBytes / uniqueBytes;
  const borgRatio = storedBytes / borgStats.size;
  const oursRate = totalBytes / oursSeconds;
  const borgRate = totalBytes / borgSeconds;
  const speedRatio = oursRate / borgRate;
  process.stdout.write(
    [
      `sample: ${size} bytes of files, ${sample.fileCount} files, WIM compression ${compression}, seed ${seed}`,
      `versions: ${VERSIONS} WIMs, ${mb(totalBytes)} in all (${sizes.map((s) => mb(s)).join(', ')});`,
      `  each from the previous by image customize replacing ${changedFiles / (VERSIONS - 1)} files (~${(CHANGED_SHARE * 100).toFixed(0)}%),`,
      `  ${mb(changedBytes / (VERSIONS - 1))} of new content a version on average`,
      `chunk store: ${stats.chunks} chunks, ${mb(stats.storedBytes)} of chunks + ${mb(manifestBytes)} of manifests = ${mb(storedBytes)} stored`,
      `unique bytes (distinct content at 2/8/64 KiB content-defined chunks): ${mb(uniqueBytes)} (${fine.size} chunks)`,
      `borg deduplicated size (its own chunker, before compression): ${mb(borgStats.size)} (${borgStats.chunks} chunks)`,
      `stored / unique = ${dedupRatio.toFixed(3)} (goal ≤ 1.2): ${dedupRatio <= 1.2 ? 'met' : 'NOT met'}`,
      `stored / borg's deduplicated size = ${borgRatio.toFixed(3)}`,
      `ingest: winsmith ${(oursRate / 1e6).toFixed(1)} MB/s (${oursSeconds.toFixed(1)} s), borg create --compression none ${(borgRate / 1e6).toFixed(1)} MB/s (${borgSeconds.toFixed(1)} s)`,
      `ingest winsmith / borg = ${speedRatio.toFixed(3)} (goal ≥ 1.0): ${speedRatio >= 1 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
}, 'winsmith-bench-dedup-');
