// Version 10 of the catalog: a token says how it was made: 'login' for the session a user opened
// with a password, 'api' for one made on purpose (existing tokens: 'api'). A token made by a
// caller holding an API token cannot outlive it (src/app/accounts.ts).

import type { Kysely, Migration } from 'kysely';

export function tokenKindsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('tokens')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('api'))
        .execute();
    },
  };
}
