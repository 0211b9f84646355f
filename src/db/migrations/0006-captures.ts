// Version 6 of the catalog: captures are deployments of another kind. A deployment gets its kind
// (`deploy` for every row before), and a capture the partition the operator named (null: the agent
// finds the Windows partition) and the upload its agent streams the image into.

import type { Kysely, Migration } from 'kysely';

export function capturesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('deployments')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('deploy'))
        .execute();
      await db.schema.alterTable('deployments').addColumn('capture_partition', 'integer').execute();
      await db.schema.alterTable('deployments').addColumn('upload_id', 'text').execute();
    },
  };
}
