// Version 7 of the catalog: multicast sessions, and the deployments each one sends to. A session
// has its name (the group), the image and edition it sends, its multicast address and ports, its
// rules (start when so many machines joined or after so long, a rate cap), its state and progress;
// each of its deployments has its place in it (waiting, receiving, done, moved to unicast).

import type { Kysely, Migration } from 'kysely';

export function multicastMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('multicast_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('image_digest', 'text', (c) => c.notNull())
        .addColumn('edition', 'integer', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('port_base', 'integer', (c) => c.notNull())
        .addColumn('min_receivers', 'integer', (c) => c.notNull())
        .addColumn('max_wait_seconds', 'integer', (c) => c.notNull())
        .addColumn('max_bits_per_second', 'bigint')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('bytes_sent', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_total', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('multicast_receivers')
        .addColumn('deployment_id', 'text', (c) =>
          c.primaryKey().references('deployments.id').onDelete('cascade'),
        )
        .addColumn('session_id', 'text', (c) =>
          c.notNull().references('multicast_sessions.id').onDelete('cascade'),
        )
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('multicast_receivers_session')
        .on('multicast_receivers')
        .column('session_id')
        .execute();
    },
  };
}
