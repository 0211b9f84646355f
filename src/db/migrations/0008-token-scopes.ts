// Version 8 of the catalog: a token may be limited to image-name prefixes of its own, within its
// user's (a JSON list of normalized scopes; empty: the user's scopes as they are).

import type { Kysely, Migration } from 'kysely';

export function tokenScopesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('tokens')
        .addColumn('scopes', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    },
  };
}
