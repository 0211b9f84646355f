// Debian packages through apt, as any user and without touching the machine's installed set: the
// dependency closure of some packages as apt would install them on an empty system (a simulated
// install over an empty dpkg status), the archive's record of exact versions (SHA-256, size), and
// downloads of exact versions into a directory (apt-get download). The machine's apt sources and
// lists are used as they are.

import { AppError } from '../core/errors.ts';
import { runProgram } from './run.ts';

/** A package at an exact version, as apt names it: `name:architecture=version`. */
export interface AptPackageVersion {
  readonly name: string;
  readonly version: string;
  /** The package's own architecture: 'amd64', or 'all'. */
  readonly architecture: string;
}

export interface AptResolved extends AptPackageVersion {
  /** The archive it would come from, as the simulation names it: 'Debian:12.15/oldstable'. */
  readonly origin: string;
}

export interface AptRecord extends AptPackageVersion {
  readonly sha256: string;
  readonly size: number;
}

/** Lines of a simulated install: `Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])`. */
const INST_LINE = /^Inst (\S+) \((\S+) (.*?) ?\[([^\]]+)\]\)/;

function spec(p: AptPackageVersion): string {
  return `${p.name}:${p.architecture}=${p.version}`;
}

/**
 * The packages apt would install for `packages` on a system where nothing is installed: the
 * packages and everything they depend on (Pre-Depends and Depends; no Recommends, no Suggests).
 */
export async function aptResolveInstall(
  packages: readonly string[],
  architecture: string,
): Promise<AptResolved[]> {
  const { stdout } = await runProgram('apt-get', [
    '--simulate',
    '-o',
    'Dir::State::status=/dev/null',
    '-o',
    `APT::Architecture=${architecture}`,
    '-o',
    'APT::Install-Recommends=false',
    '-o',
    'APT::Install-Suggests=false',
    'install',
    '--',
    ...packages,
  ]);
  const resolved: AptResolved[] = [];
  for (const line of stdout.toString('utf8').split('\n')) {
    const m = INST_LINE.exec(line);
    if (m === null) continue;
    const [, name = '', version = '', origin = '', arch = ''] = m;
    resolved.push({ name, version, origin, architecture: arch });
  }
  return resolved;
}

/** Splits `apt-cache show` output into its stanzas' fields. */
function stanzas(text: string): Map<string, string>[] {
  return text
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const m = /^([A-Za-z0-9-]+): ?(.*)$/.exec(line);
        if (m !== null) fields.set(m[1] ?? '', m[2] ?? '');
      }
      return fields;
    });
}

/** The archive's record (SHA-256 and size of the .deb) of each package at its exact version. */
export async function aptShowRecords(packages: readonly AptPackageVersion[]): Promise<AptRecord[]> {
  const { stdout } = await runProgram('apt-cache', ['show', '--', ...packages.map(spec)]);
  const found = new Map<string, AptRecord>();
  for (const fields of stanzas(stdout.toString('utf8'))) {
    const record: AptRecord = {
      name: fields.get('Package') ?? '',
      version: fields.get('Version') ?? '',
      architecture: fields.get('Architecture') ?? '',
      sha256: fields.get('SHA256') ?? '',
      size: Number(fields.get('Size') ?? NaN),
    };
    const key = spec(record);
    const before = found.get(key);
    if (before !== undefined && before.sha256 !== record.sha256) {
      throw new AppError(
        'CONFLICT',
        `${key} has two different SHA-256 in the apt lists: ${before.sha256}, ${record.sha256}`,
        {
          hint: 'two sources offer different files under one version: keep one of them in the apt sources',
        },
      );
    }
    found.set(key, record);
  }
  return packages.map((p) => {
    const record = found.get(spec(p));
    if (record === undefined) {
      throw new AppError('NOT_FOUND', `apt-cache show gave no record of ${spec(p)}`, {
        hint: 'run apt-get update, then try again',
      });
    }
    return record;
  });
}

/** The file name apt-get download gives a package: `name_version_arch.deb`, ':' written '%3a'. */
export function aptDebFileName(p: AptPackageVersion): string {
  return `${p.name}_${p.version.replaceAll(':', '%3a')}_${p.architecture}.deb`;
}

/**
 * Downloads each package at its exact version into `dir` (named as aptDebFileName says). apt
 * checks every package before it downloads any: one that the sources do not offer fails them all,
 * with the packages apt could not find named in one line.
 */
export async function aptDownload(dir: string, packages: readonly AptPackageVersion[]): Promise<void> {
  if (packages.length === 0) return;
  try {
    await runProgram('apt-get', ['download', '-q', '--', ...packages.map(spec)], { cwd: dir });
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'PROGRAM_FAILED' || !(e.cause instanceof Error)) throw e;
    const problems = e.cause.message
      .split('\n')
      .filter((l) => l.startsWith('E: '))
      .map((l) => l.slice(3).trim());
    throw new AppError(
      'NOT_FOUND',
      `apt-get download could not get ${problems.length === 0 ? 'the packages' : problems.join('; ')}`,
      {
        hint: 'run apt-get update; if the archive no longer has these versions, update the lock (winsmith bootenv lock)',
        cause: e,
      },
    );
  }
}
