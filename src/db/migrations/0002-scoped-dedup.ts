// Version 2 of the catalog:
//   - artifact_chunks: the chunks each artifact's manifest references, so that a push may reuse
//     only chunks of images its caller may read (deduplication never crosses permissions);
//   - upload_chunks: the chunks an open upload has accounted for, sent or reused, which its commit
//     requires, whatever else the store holds;
//   - machines.state: `pending` for a machine that registered itself by booting, until an operator
//     approves it (`ready`); the number of pending machines is capped.

import type { Kysely, Migration } from 'kysely';

export function scopedDedupMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('artifact_chunks')
        .addColumn('artifact_digest', 'text', (c) =>
          c.notNull().references('artifacts.digest').onDelete('cascade'),
        )
        .addColumn('chunk_digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('artifact_chunks_pk', ['artifact_digest', 'chunk_digest'])
        .execute();
      await db.schema
        .createIndex('artifact_chunks_chunk')
        .on('artifact_chunks')
        .columns(['chunk_digest', 'artifact_digest'])
        .execute();

      await db.schema
        .createTable('upload_chunks')
        .addColumn('upload_id', 'text', (c) => c.notNull().references('uploads.id').onDelete('cascade'))
        .addColumn('chunk_digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('upload_chunks_pk', ['upload_id', 'chunk_digest'])
        .execute();

      await db.schema
        .alterTable('machines')
        .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
        .execute();
      await db.schema.createIndex('machines_state').on('machines').column('state').execute();
    },
  };
}
