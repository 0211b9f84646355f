// Every store's contract on SQLite: a fresh database file in a temp directory for each test.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openDatabase } from '../../src/db/database.ts';
import { storeContracts } from './contracts.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

storeContracts('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-catalog-'));
  dirs.push(dir);
  const config = { kind: 'sqlite', path: join(dir, 'catalog.db') } as const;
  return {
    database: await openDatabase(config),
    reopen: () => openDatabase(config),
    concurrentConnections: false,
  };
});
