// The BlobStore contract against the filesystem store and against S3 (s3rver started here).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { FsBlobStore } from '../../src/store/blob-store-fs.ts';
import { S3BlobStore } from '../../src/store/blob-store-s3.ts';
import { startTestS3, type TestS3 } from '../helpers/s3rver.ts';
import { runBlobStoreContract } from './blob-store.contract.ts';

runBlobStoreContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-blobs-'));
  return {
    store: new FsBlobStore(dir),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

let s3: TestS3 | undefined;
let run = 0;
before(async () => {
  s3 = await startTestS3();
});
after(async () => {
  await s3?.close();
});

runBlobStoreContract('S3 (s3rver)', () => {
  if (s3 === undefined) throw new Error('s3rver did not start');
  // Each test gets its own prefix in the shared bucket: a fresh, empty store.
  const store = new S3BlobStore({ ...s3.config, prefix: `run-${++run}/` });
  return Promise.resolve({
    store,
    dispose: () => {
      store.close();
      return Promise.resolve();
    },
  });
});
