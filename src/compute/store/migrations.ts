import type { Kysely, Migration, CreateTableBuilder } from 'kysely';
import type { Engine } from '../../platform/db/connect.js';
import { createServerTables } from '../servers/schema.js';
import { createServerGroupTables } from '../servers/groups-schema.js';
import { createMigrationTables } from '../servers/migrations-schema.js';

const NAME = 'varchar(255)';
const TIME = 'varchar(32)';

/** An integer primary key the engine numbers (SQLite AUTOINCREMENT, PostgreSQL serial, MariaDB AUTO_INCREMENT). */
function withSerialId<T extends string>(engine: Engine, t: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'> {
  return engine === 'postgres'
    ? t.addColumn('id', 'serial', (c) => c.primaryKey())
    : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

async function initial(db: Kysely<any>, engine: Engine): Promise<void> {
  await withSerialId(engine, db.schema.createTable('compute_flavor'))
    .addColumn('flavorid', NAME, (c) => c.notNull().unique())
    .addColumn('name', NAME, (c) => c.notNull().unique())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('vcpus', 'integer', (c) => c.notNull())
    .addColumn('root_gb', 'integer', (c) => c.notNull())
    .addColumn('ephemeral_gb', 'integer', (c) => c.notNull())
    .addColumn('swap', 'integer', (c) => c.notNull())
    .addColumn('rxtx_factor', 'double precision', (c) => c.notNull())
    .addColumn('vcpu_weight', 'integer')
    .addColumn('disabled', 'integer', (c) => c.notNull())
    .addColumn('is_public', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .execute();
  await db.schema.createTable('compute_flavor_extra_spec')
    .addColumn('flavor_id', 'integer', (c) => c.notNull())
    .addColumn('spec_key', NAME, (c) => c.notNull())
    .addColumn('spec_value', NAME, (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_flavor_extra_spec_pk', ['flavor_id', 'spec_key'])
    .execute();
  await db.schema.createTable('compute_flavor_project')
    .addColumn('flavor_id', 'integer', (c) => c.notNull())
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_flavor_project_pk', ['flavor_id', 'project_id'])
    .execute();

  await withSerialId(engine, db.schema.createTable('compute_keypair'))
    .addColumn('user_id', NAME, (c) => c.notNull())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('fingerprint', NAME, (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addUniqueConstraint('compute_keypair_user_name', ['user_id', 'name'])
    .execute();

  await db.schema.createTable('compute_quota')
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addColumn('user_id', NAME, (c) => c.notNull())
    .addColumn('resource', NAME, (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_quota_pk', ['project_id', 'user_id', 'resource'])
    .execute();
  await db.schema.createTable('compute_quota_class')
    .addColumn('class_name', NAME, (c) => c.notNull())
    .addColumn('resource', NAME, (c) => c.notNull())
    .addColumn('hard_limit', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_quota_class_pk', ['class_name', 'resource'])
    .execute();

  await withSerialId(engine, db.schema.createTable('compute_service'))
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('host', NAME, (c) => c.notNull())
    .addColumn('binary', NAME, (c) => c.notNull())
    .addColumn('topic', NAME)
    .addColumn('disabled', 'integer', (c) => c.notNull())
    .addColumn('disabled_reason', NAME)
    .addColumn('forced_down', 'integer', (c) => c.notNull())
    .addColumn('report_count', 'integer', (c) => c.notNull())
    .addColumn('last_seen_up', TIME)
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .addUniqueConstraint('compute_service_host_binary', ['host', 'binary'])
    .execute();

  await withSerialId(engine, db.schema.createTable('compute_node'))
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('host', NAME, (c) => c.notNull())
    .addColumn('hypervisor_hostname', NAME, (c) => c.notNull())
    .addColumn('hypervisor_type', NAME, (c) => c.notNull())
    .addColumn('hypervisor_version', 'bigint', (c) => c.notNull())
    .addColumn('virt_type', 'varchar(32)')
    .addColumn('vcpus', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('local_gb', 'integer', (c) => c.notNull())
    .addColumn('vcpus_used', 'integer', (c) => c.notNull())
    .addColumn('memory_mb_used', 'integer', (c) => c.notNull())
    .addColumn('local_gb_used', 'integer', (c) => c.notNull())
    .addColumn('running_vms', 'integer', (c) => c.notNull())
    .addColumn('current_workload', 'integer', (c) => c.notNull())
    .addColumn('disk_available_least', 'integer')
    .addColumn('cpu_info', 'text', (c) => c.notNull())
    .addColumn('host_ip', 'varchar(64)')
    .addColumn('uptime', NAME)
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .addUniqueConstraint('compute_node_host_node', ['host', 'hypervisor_hostname'])
    .execute();

  await withSerialId(engine, db.schema.createTable('compute_aggregate'))
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('name', NAME, (c) => c.notNull().unique())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .execute();
  await db.schema.createTable('compute_aggregate_host')
    .addColumn('aggregate_id', 'integer', (c) => c.notNull())
    .addColumn('host', NAME, (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_aggregate_host_pk', ['aggregate_id', 'host'])
    .execute();
  await db.schema.createIndex('compute_aggregate_host_host').on('compute_aggregate_host').column('host').execute();
  await db.schema.createTable('compute_aggregate_metadata')
    .addColumn('aggregate_id', 'integer', (c) => c.notNull())
    .addColumn('meta_key', NAME, (c) => c.notNull())
    .addColumn('meta_value', NAME, (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_aggregate_metadata_pk', ['aggregate_id', 'meta_key'])
    .execute();
}

/** The compute service's migrations for an engine (integer ids are numbered per engine). */
export function computeMigrations(engine: Engine): Record<string, Migration> {
  return {
    '0001_initial': { up: (db) => initial(db, engine) },
    '0002_servers': { up: (db) => createServerTables(db, engine) },
    '0003_server_groups': { up: (db) => createServerGroupTables(db, engine) },
    '0004_migrations': { up: (db) => createMigrationTables(db, engine) },
  };
}
