// Version 9 of the catalog: machines are listed a page at a time, oldest first (first_seen, then
// id), and filtered by state: an index in that order reads a page without sorting the inventory.
// The one on state alone is a prefix of the second and goes.

import type { Kysely, Migration } from 'kysely';

export function machinePagesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('machines_listing').on('machines').columns(['first_seen', 'id']).execute();
      await db.schema
        .createIndex('machines_state_listing')
        .on('machines')
        .columns(['state', 'first_seen', 'id'])
        .execute();
      await db.schema.dropIndex('machines_state').execute();
    },
  };
}
