// An S3-compatible server for tests: s3rver in-process on 127.0.0.1, port chosen by the system,
// data in a temporary directory, one bucket made at start. Dummy credentials (s3rver accepts any).

import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3BlobStoreConfig } from '../../src/store/blob-store-s3.ts';

interface S3rverOptions {
  readonly port: number;
  readonly address: string;
  readonly directory: string;
  readonly silent: boolean;
  readonly configureBuckets: readonly { readonly name: string }[];
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

type S3rverClass = new (options: S3rverOptions) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

export interface TestS3 {
  readonly config: S3BlobStoreConfig;
  close(): Promise<void>;
}

/** Starts s3rver with the bucket `bucket` (3–63 characters). */
export async function startTestS3(bucket = 'winsmith-test'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'winsmith-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const address = await server.run();
  return {
    config: {
      endpoint: `http://127.0.0.1:${address.port}`,
      region: 'us-east-1',
      bucket,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
