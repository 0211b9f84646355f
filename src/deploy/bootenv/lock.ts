// The deploy environment's lock: every Debian package it is built from, pinned to a version and to
// the SHA-256 of its .deb as the archive lists it, with the time the lock was made (every file of
// the environment gets that time, SOURCE_DATE_EPOCH-style). The same lock builds the same bytes.
// `winsmith bootenv lock` writes it; a build reads and checks it before anything is downloaded.

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';

export const BOOTENV_LOCK_FORMAT = 1;

/** Debian Policy §5.6.1 (package names) and §5.6.12 (versions: [epoch:]upstream[-revision]). */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const VERSION = /^(\d+:)?[A-Za-z0-9][A-Za-z0-9.+~-]*$/;
const ARCHITECTURE = /^[a-z0-9][a-z0-9-]*$/;

const LockedPackage = z.strictObject({
  name: z.string().regex(PACKAGE_NAME, { error: 'expected a Debian package name' }),
  version: z.string().regex(VERSION, { error: 'expected a Debian version ([epoch:]upstream[-revision])' }),
  architecture: z.string().regex(ARCHITECTURE, { error: 'expected a Debian architecture' }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hexadecimal digits' }),
  size: z.number({ error: 'expected a number of bytes' }).int().positive(),
});
export type LockedPackage = z.infer<typeof LockedPackage>;

const LockFile = z.strictObject({
  format: z.literal(BOOTENV_LOCK_FORMAT, { error: `expected ${BOOTENV_LOCK_FORMAT}` }),
  architecture: z.string().regex(ARCHITECTURE, { error: 'expected a Debian architecture' }),
  sourceDateEpoch: z.number({ error: 'expected seconds since 1970' }).int().nonnegative().max(0xffffffff),
  roots: z.array(z.string().regex(PACKAGE_NAME, { error: 'expected a Debian package name' })).min(1),
  packages: z.array(LockedPackage).min(1),
});
export type BootEnvLock = z.infer<typeof LockFile>;

function invalid(where: string, message: string): AppError {
  return new AppError('FORMAT_INVALID', `${where}: ${message}`, {
    hint: 'write the lock again with `winsmith bootenv lock`',
  });
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/**
 * The lock in `text` (`where` names it in errors), checked: its fields, packages sorted by name
 * and each named once, every root among them, each of the lock's architecture or 'all'.
 */
export function parseBootEnvLock(text: string, where: string): BootEnvLock {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw invalid(where, `not JSON: ${(cause as Error).message}`);
  }
  const parsed = LockFile.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    if (issue === undefined) throw invalid(where, 'not a lock');
    const at = issue.path.length === 0 ? 'the lock' : pathText(issue.path);
    if (issue.code === 'unrecognized_keys') {
      throw invalid(where, `${at} has fields a lock does not have: ${issue.keys.join(', ')}`);
    }
    const found = issue.input === undefined ? 'missing' : JSON.stringify(issue.input);
    throw invalid(where, `${at} is ${found}; ${issue.message}`);
  }
  const lock = parsed.data;
  lock.packages.forEach((p, i) => {
    const before = lock.packages[i - 1];
    if (before !== undefined && before.name >= p.name) {
      throw invalid(
        where,
        `packages[${i}] ${p.name} comes after ${before.name}; expected names sorted, each once`,
      );
    }
    if (p.architecture !== lock.architecture && p.architecture !== 'all') {
      throw invalid(
        where,
        `packages[${i}] ${p.name} is for ${p.architecture}; expected ${lock.architecture} or all`,
      );
    }
  });
  const names = new Set(lock.packages.map((p) => p.name));
  for (const root of lock.roots) {
    if (!names.has(root)) throw invalid(where, `root ${root} is not among the packages`);
  }
  return lock;
}

/** The lock as it is written: JSON, fields in a fixed order, a package a line. */
export function serializeBootEnvLock(lock: BootEnvLock): string {
  const packages = lock.packages.map((p) =>
    JSON.stringify({
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      sha256: p.sha256,
      size: p.size,
    }),
  );
  return [
    '{',
    `  "format": ${lock.format},`,
    `  "architecture": ${JSON.stringify(lock.architecture)},`,
    `  "sourceDateEpoch": ${lock.sourceDateEpoch},`,
    `  "roots": ${JSON.stringify(lock.roots)},`,
    '  "packages": [',
    packages.map((p) => `    ${p}`).join(',\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/** The SHA-256 of the lock as written: what a build records and a cache is keyed by. */
export function bootEnvLockSha256(lock: BootEnvLock): string {
  return createHash('sha256').update(serializeBootEnvLock(lock)).digest('hex');
}
