// The catalog contract on SQLite: a fresh database file in a temp directory for each test.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Catalog } from '../../src/store/catalog/catalog.ts';
import { catalogContract } from './catalog.contract.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

catalogContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'winsmith-catalog-'));
  dirs.push(dir);
  const config = { kind: 'sqlite', path: join(dir, 'catalog.db') } as const;
  return {
    catalog: await Catalog.open(config),
    reopen: () => Catalog.open(config),
    concurrentConnections: false,
  };
});
