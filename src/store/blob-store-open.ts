// The blob store a server config names: a directory, or an S3 bucket whose client (a large module)
// is loaded only when configured.

import type { ServerSettings } from '../config/server-config.ts';
import type { BlobStore } from './blob-store.ts';
import { FsBlobStore } from './blob-store-fs.ts';

/** The blob store of `settings`. */
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
