// BorgBackup (Debian `borgbackup`), the deduplicating archiver the chunk store is measured against
// (bench/dedup.ts): an unencrypted repository, archives of whole files, and the repository's
// deduplicated size from `borg info --json`.

import { AppError } from '../core/errors.ts';
import { runProgram } from './run.ts';

/** Borg refuses unencrypted repositories it has not seen before unless told this. */
function borgEnv(baseDir: string): Record<string, string> {
  return { BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes', BORG_BASE_DIR: baseDir };
}

export interface BorgRepo {
  readonly path: string;
  /** Borg's cache and configuration (BORG_BASE_DIR), kept apart from the user's. */
  readonly baseDir: string;
}

export async function borgInit(repo: BorgRepo): Promise<void> {
  await runProgram('borg', ['init', '--encryption', 'none', repo.path], { env: borgEnv(repo.baseDir) });
}

/** Archives `files` as `name`; `compression` is borg's spec ('none', 'lz4', …). */
export async function borgCreate(
  repo: BorgRepo,
  name: string,
  files: readonly string[],
  compression = 'none',
): Promise<void> {
  await runProgram('borg', ['create', '--compression', compression, `${repo.path}::${name}`, ...files], {
    env: borgEnv(repo.baseDir),
  });
}

export interface BorgRepoStats {
  /** Bytes of all archives before deduplication and compression. */
  readonly totalSize: number;
  /** Bytes of the distinct chunks, before compression. */
  readonly uniqueSize: number;
  /** Bytes of the distinct chunks as stored (after compression). */
  readonly uniqueStoredSize: number;
  readonly uniqueChunks: number;
}

export async function borgRepoStats(repo: BorgRepo): Promise<BorgRepoStats> {
  const result = await runProgram('borg', ['info', '--json', repo.path], { env: borgEnv(repo.baseDir) });
  const info = JSON.parse(result.stdout.toString('utf8')) as {
    cache?: {
      stats?: {
        total_size?: number;
        unique_size?: number;
        unique_csize?: number;
        total_unique_chunks?: number;
      };
    };
  };
  const stats = info.cache?.stats;
  if (
    stats?.total_size === undefined ||
    stats.unique_size === undefined ||
    stats.unique_csize === undefined ||
    stats.total_unique_chunks === undefined
  ) {
    throw new AppError('PROGRAM_FAILED', 'borg info --json printed no cache.stats with sizes', {
      hint: 'check the borgbackup version (1.2 expected)',
    });
  }
  return {
    totalSize: stats.total_size,
    uniqueSize: stats.unique_size,
    uniqueStoredSize: stats.unique_csize,
    uniqueChunks: stats.total_unique_chunks,
  };
}
