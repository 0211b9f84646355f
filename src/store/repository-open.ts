// `--repo URL|PATH` (or WINSMITH_REPO) → a Repository: an http(s) URL is a `winsmith server`
// (token from WINSMITH_TOKEN or the credentials `winsmith login` stored), anything else a data
// directory used directly with the embedded defaults, acting as the local user.

import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { findCredential } from '../config/credentials.ts';
import type { ServerSettings } from '../config/server-config.ts';
import type { BlobStore } from './blob-store.ts';
import { FsBlobStore } from './blob-store-fs.ts';
import { AppError } from '../core/errors.ts';
import type { Repository } from './repository.ts';
import { LocalRepository } from './repository-local.ts';
import { publicUrl, RemoteRepository } from './repository-remote.ts';

/** Exactly one of `local` (a data directory: user and token management work on it directly) and `remote`. */
export type OpenedRepository =
  | { readonly repo: Repository; readonly local: LocalRepository; readonly remote: null }
  | { readonly repo: Repository; readonly local: null; readonly remote: RemoteRepository };

export function isRemoteSpec(spec: string): boolean {
  return /^https?:\/\//i.test(spec);
}

/** The actor of CLI commands on a data directory, for the audit log. */
export function localActor(): { user: string; client: string } {
  return { user: `local:${userInfo().username}`, client: 'local' };
}

export async function openRepository(
  spec: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpenedRepository> {
  const given = spec ?? env.WINSMITH_REPO;
  if (given === undefined || given === '') {
    throw new AppError('USAGE', 'no repository given', {
      hint: 'pass --repo URL|PATH or set WINSMITH_REPO (a server URL or a data directory)',
    });
  }
  if (isRemoteSpec(given)) {
    const url = publicUrl(given);
    const token = env.WINSMITH_TOKEN ?? (await findCredential(url, env))?.token ?? null;
    const remote = new RemoteRepository(url, token);
    return { repo: remote, local: null, remote };
  }
  const local = await LocalRepository.openDataDir(resolve(given));
  return { repo: local.as(localActor()), local, remote: null };
}

/** The blob store of a config; the S3 client (a large module) is loaded only when configured. */
export async function blobStoreOf(settings: ServerSettings): Promise<BlobStore> {
  const b = settings.blobs;
  if (b.kind === 'fs') return new FsBlobStore(b.path);
  const { S3BlobStore } = await import('./blob-store-s3.ts');
  return new S3BlobStore({
    endpoint: b.endpoint,
    region: b.region,
    bucket: b.bucket,
    prefix: b.prefix,
    ...(b.accessKeyId === '' ? {} : { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey }),
  });
}

/** The repository a server config describes (SQLite + files, or PostgreSQL + S3). */
export async function openConfiguredRepository(settings: ServerSettings): Promise<LocalRepository> {
  return LocalRepository.open({
    catalog: settings.catalog,
    blobs: await blobStoreOf(settings),
    dataDir: settings.catalog.kind === 'sqlite' || settings.blobs.kind === 'fs' ? settings.data : null,
    chunking: settings.chunking,
    gcGraceSeconds: settings.gcGraceSeconds,
    maxChunkBytes: settings.maxChunkBytes,
    maxManifestChunks: settings.maxManifestChunks,
  });
}
