/**
 * The table of migrations (Nova's `migrations`): one row per move of an instance — here the
 * resizes, which stay on the instance's host — with its source and destination, the flavors'
 * integer ids and a status that follows the operation (pre-migrating → finished → confirmed or
 * reverted, or error). Rows stay after the instance is deleted; the API hides those, as Nova
 * soft-deletes an instance's migrations with it.
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../../platform/db/connect.js';
import type { ServersDB } from './schema.js';

export interface MigrationRow {
  id: number;
  uuid: string;
  instance_uuid: string;
  source_compute: string | null;
  dest_compute: string | null;
  source_node: string | null;
  dest_node: string | null;
  /** The destination host's IP address. */
  dest_host: string | null;
  /** The flavors' integer ids (Nova's instance type ids); null when the flavor is gone. */
  old_instance_type_id: number | null;
  new_instance_type_id: number | null;
  status: string;
  /** migration, resize, live-migration or evacuation. */
  migration_type: string;
  hidden: number;
  /** Who asked for it. */
  user_id: string;
  project_id: string;
  created_at: string;
  updated_at: string | null;
}

/** The servers' tables plus migrations. */
export interface MigrationsDB extends ServersDB {
  compute_instance_migration: MigrationRow;
}

const NAME = 'varchar(255)';
const TIME = 'varchar(32)';

/** Migration `0004_migrations`. */
export async function createMigrationTables(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = db.schema.createTable('compute_instance_migration');
  await (engine === 'postgres' ? t.addColumn('id', 'serial', (c) => c.primaryKey()) : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()))
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
    .addColumn('source_compute', NAME)
    .addColumn('dest_compute', NAME)
    .addColumn('source_node', NAME)
    .addColumn('dest_node', NAME)
    .addColumn('dest_host', NAME)
    .addColumn('old_instance_type_id', 'integer')
    .addColumn('new_instance_type_id', 'integer')
    .addColumn('status', NAME, (c) => c.notNull())
    .addColumn('migration_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('hidden', 'integer', (c) => c.notNull())
    .addColumn('user_id', NAME, (c) => c.notNull())
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .execute();
  await db.schema.createIndex('compute_instance_migration_instance').on('compute_instance_migration').columns(['instance_uuid', 'status']).execute();
  await db.schema.createIndex('compute_instance_migration_created').on('compute_instance_migration').columns(['created_at', 'id']).execute();
}
