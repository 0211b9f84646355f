// Version 3 of the catalog: machines an operator registers before they boot. A machine may be
// known by its SMBIOS UUID alone until it first boots (`mac` becomes nullable, still unique), and
// has a name (unique when set) and labels (a JSON list of strings). SQLite cannot drop a NOT NULL
// constraint in place, so the table is made anew, its rows copied, on both dialects alike.

import { sql, type Kysely, type Migration } from 'kysely';

export function machineNamesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('machines_v3')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('mac', 'text', (c) => c.unique())
        .addColumn('smbios_uuid', 'text')
        .addColumn('name', 'text', (c) => c.unique())
        .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('serial', 'text')
        .addColumn('manufacturer', 'text')
        .addColumn('product', 'text')
        .addColumn('arch', 'text')
        .addColumn('platform', 'text')
        .addColumn('inventory', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('deployment_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull().defaultTo('pending'))
        .execute();
      await sql`insert into machines_v3 (id, mac, smbios_uuid, serial, manufacturer, product, arch,
        platform, inventory, first_seen, last_seen, deployment_id, state)
        select id, mac, smbios_uuid, serial, manufacturer, product, arch, platform, inventory,
        first_seen, last_seen, deployment_id, state from machines`.execute(db);
      await db.schema.dropTable('machines').execute();
      await db.schema.alterTable('machines_v3').renameTo('machines').execute();
      await db.schema.createIndex('machines_uuid').on('machines').column('smbios_uuid').execute();
      await db.schema.createIndex('machines_state').on('machines').column('state').execute();
    },
  };
}
