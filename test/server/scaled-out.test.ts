// Smoke test of the scaled-out set-up: two servers from one config file, sharing a PostgreSQL
// catalog (a private cluster started here) and S3 blobs (s3rver started here). A push through
// one is pulled byte-identical through the other; store check passes on both. Skipped, with the
// reason, only when the PostgreSQL binaries are not installed.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AccountStore } from '../../src/auth/account-store.ts';
import { issueToken } from '../../src/auth/tokens.ts';
import { loadServerSettings } from '../../src/config/server-config.ts';
import { withTempDir } from '../../src/io/output.ts';
import { silentLogger } from '../../src/server/log.ts';
import { serveRepository } from '../../src/server/serve.ts';
import { pullFile, pushFile } from '../../src/app/transfer.ts';
import { DEFAULT_META } from '../../src/store/repository.ts';
import { remoteSession } from '../../src/app/remote/remote-session.ts';
import { postgresSkipReason, startPostgres, type PostgresCluster } from '../helpers/postgres.ts';
import { startTestS3, type TestS3 } from '../helpers/s3rver.ts';

const skip = postgresSkipReason();
let cluster: PostgresCluster | undefined;
let s3: TestS3 | undefined;

if (skip === undefined) {
  before(async () => {
    cluster = await startPostgres();
    s3 = await startTestS3('winsmith-scaled');
  });
  after(async () => {
    await s3?.close();
    await cluster?.stop();
  });
}

test(
  'two servers on one PostgreSQL catalog and one S3 bucket serve the same images',
  { skip, timeout: 180_000 },
  async () => {
    assert.ok(cluster !== undefined && s3 !== undefined);
    const url = await cluster.createDatabase();
    await withTempDir(async (dir) => {
      const config = join(dir, 'server.yaml');
      await writeFile(
        config,
        [
          'listen: 127.0.0.1:0',
          'catalog: { kind: postgres, urlEnv: TEST_DATABASE_URL }',
          `blobs: { kind: s3, endpoint: "${s3?.config.endpoint ?? ''}", bucket: ${s3?.config.bucket ?? ''}, region: us-east-1 }`,
          'chunking: { minSize: 4096, avgSize: 16384, maxSize: 65536 }',
          '',
        ].join('\n'),
      );
      const env = {
        TEST_DATABASE_URL: url,
        AWS_ACCESS_KEY_ID: s3?.config.accessKeyId ?? '',
        AWS_SECRET_ACCESS_KEY: s3?.config.secretAccessKey ?? '',
      };
      const settings = await loadServerSettings({ config }, env);
      let password = '';
      const one = await serveRepository(settings, {
        logger: silentLogger,
        onFirstAdmin: (a) => (password = a.password),
      });
      const two = await serveRepository(settings, { logger: silentLogger });
      try {
        assert.notEqual(password, '');
        const { token } = await issueToken(new AccountStore(one.app.database), {
          userName: 'admin',
          name: 'test',
        });
        const file = join(dir, 'image.bin');
        const bytes = randomBytes(1_500_000);
        await writeFile(file, bytes);
        const ref = { name: 'shared/image', tag: 'v1' };
        const pushed = await pushFile(remoteSession(one.server.url, token).images, file, ref, DEFAULT_META);
        assert.equal(pushed.uploadedChunks, pushed.chunks);
        const viaTwo = remoteSession(two.server.url, token).images;
        const out = join(dir, 'pulled.bin');
        await pullFile(viaTwo, ref, out);
        assert.deepEqual(await readFile(out), bytes);
        const again = await pushFile(viaTwo, file, { name: 'shared/image', tag: 'v2' }, DEFAULT_META);
        assert.equal(again.uploadedChunks, 0);
        assert.equal((await viaTwo.check()).ok, true);
        assert.equal((await viaTwo.stats()).artifacts, 1);
      } finally {
        await one.server.close();
        await two.server.close();
      }
    });
  },
);
