// Everything a deploy environment is made from, read and checked before a build: the lock (against
// content.ts), the Node binary, and the agent bundled into one file. Their digests together name
// the result: the same inputs make the same environment, so a built one can be kept under that name.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.ts';
import { bundleModule } from '../../engines/esbuild.ts';
import { sha256OfFile } from '../../io/file-sha256.ts';
import { requireFile } from '../../io/paths.ts';
import {
  AGENT_TARGET,
  BOOTENV_ARCHITECTURE,
  BOOTENV_FILES,
  BOOTENV_LOADERS,
  BOOTENV_MODULE_NAMES,
  BOOTENV_ROOTS,
} from './content.ts';
import { INIT_SCRIPT, UDHCPC_SCRIPT } from './init-script.ts';
import { bootEnvLockSha256, parseBootEnvLock, type BootEnvLock } from './lock.ts';
import { ZSTD_LEVEL } from './write-initramfs.ts';

export interface BootEnvSources {
  readonly lockFile: string;
  /** The Node binary shipped as /usr/bin/node, and its version. */
  readonly nodeBinary: string;
  readonly nodeVersion: string;
  /** The agent's entry point (.ts or .js) and the package root its sources are named from. */
  readonly agentEntry: string;
  readonly packageRoot: string;
  /** winsmith's version, given to the agent as process.env.WINSMITH_VERSION. */
  readonly version: string;
}

export interface BootEnvInputs {
  readonly lock: BootEnvLock;
  readonly lockSha256: string;
  readonly nodeBinary: string;
  readonly node: { readonly version: string; readonly size: number; readonly sha256: string };
  readonly agentBundle: Uint8Array;
  readonly agentSha256: string;
  readonly version: string;
  /** The SHA-256 of all the above and of content.ts and /init: what names a built environment. */
  readonly sha256: string;
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The lock at `path`, checked against what content.ts builds. */
export async function readBootEnvLock(path: string): Promise<BootEnvLock> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AppError(
      'FILE_NOT_FOUND',
      `cannot read the deploy environment's lock ${path}: ${(cause as Error).message}`,
      {
        hint: 'write it with `winsmith bootenv lock`',
        cause,
      },
    );
  }
  const lock = parseBootEnvLock(text, path);
  const want = BOOTENV_ROOTS.join(', ');
  if (lock.roots.join(', ') !== want || lock.architecture !== BOOTENV_ARCHITECTURE) {
    throw new AppError(
      'FORMAT_INVALID',
      `${path} pins ${lock.architecture} packages for ${lock.roots.join(', ')}; expected ${BOOTENV_ARCHITECTURE} for ${want}`,
      { hint: 'content.ts changed since the lock was written: write it again with `winsmith bootenv lock`' },
    );
  }
  return lock;
}

export async function readBootEnvInputs(sources: BootEnvSources): Promise<BootEnvInputs> {
  const lock = await readBootEnvLock(sources.lockFile);
  const nodeSize = (await requireFile(sources.nodeBinary)).size;
  const nodeSha256 = await sha256OfFile(sources.nodeBinary);
  const agentBundle = await bundleModule(sources.agentEntry, {
    root: sources.packageRoot,
    target: AGENT_TARGET,
    define: { 'process.env.WINSMITH_VERSION': JSON.stringify(sources.version) },
  });
  const lockSha256 = bootEnvLockSha256(lock);
  const agentSha256 = sha256(agentBundle);
  const content = JSON.stringify({
    files: BOOTENV_FILES,
    loaders: BOOTENV_LOADERS,
    modules: BOOTENV_MODULE_NAMES,
    init: INIT_SCRIPT,
    udhcpc: UDHCPC_SCRIPT,
    zstd: ZSTD_LEVEL,
  });
  return {
    lock,
    lockSha256,
    nodeBinary: sources.nodeBinary,
    node: { version: sources.nodeVersion, size: nodeSize, sha256: nodeSha256 },
    agentBundle,
    agentSha256,
    version: sources.version,
    sha256: sha256(JSON.stringify([lockSha256, nodeSha256, agentSha256, sources.version, sha256(content)])),
  };
}
