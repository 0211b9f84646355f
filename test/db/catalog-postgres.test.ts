// Every store's contract on PostgreSQL: one private cluster for this file (started here, stopped
// after, also on failure), a fresh database for each test. Skipped, with the reason, only when the
// PostgreSQL binaries are not installed.

import { after, before, test } from 'node:test';
import { openDatabase } from '../../src/db/database.ts';
import { postgresSkipReason, startPostgres, type PostgresCluster } from '../helpers/postgres.ts';
import { storeContracts } from './contracts.ts';

const skip = postgresSkipReason();
if (skip !== undefined) {
  test('store contracts on PostgreSQL', { skip }, () => undefined);
} else {
  let cluster: PostgresCluster | undefined;
  before(async () => {
    cluster = await startPostgres();
  });
  after(async () => {
    await cluster?.stop();
  });

  storeContracts('postgres', async () => {
    if (cluster === undefined) throw new Error('the PostgreSQL cluster did not start');
    const config = { kind: 'postgres', url: await cluster.createDatabase() } as const;
    return {
      database: await openDatabase(config),
      reopen: () => openDatabase(config),
      concurrentConnections: true,
    };
  });
}
