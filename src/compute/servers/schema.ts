/**
 * The tables of servers (Nova's instances), their actions and events. Columns for what lists
 * filter and sort on; `body` (JSON) for the rest of an instance's record, so adding an attribute
 * needs no migration.
 */
import type { Kysely, CreateTableBuilder } from 'kysely';
import type { Engine } from '../../platform/db/connect.js';

export interface InstanceRow {
  id: number;
  uuid: string;
  project_id: string;
  user_id: string;
  display_name: string;
  host: string | null;
  node: string | null;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  image_ref: string;
  flavor_id: string;
  availability_zone: string | null;
  reservation_id: string;
  launch_index: number;
  key_name: string | null;
  locked: number;
  created_at: string;
  updated_at: string | null;
  launched_at: string | null;
  terminated_at: string | null;
  /** 0 while it exists; its id once deleted (rows stay for `changes-since` and usage). */
  deleted: number;
  deleted_at: string | null;
  body: string;
}

export interface InstanceActionRow {
  id: number;
  instance_uuid: string;
  request_id: string;
  action: string;
  project_id: string;
  user_id: string;
  start_time: string;
  finish_time: string | null;
  message: string | null;
  updated_at: string | null;
}

export interface InstanceActionEventRow {
  id: number;
  action_id: number;
  event: string;
  start_time: string;
  finish_time: string | null;
  result: string | null;
  traceback: string | null;
  host: string | null;
  details: string | null;
}

export interface ServersDB {
  compute_instance: InstanceRow;
  compute_instance_action: InstanceActionRow;
  compute_instance_action_event: InstanceActionEventRow;
}

const NAME = 'varchar(255)';
const TIME = 'varchar(32)';

function withSerialId<T extends string>(engine: Engine, t: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'> {
  return engine === 'postgres'
    ? t.addColumn('id', 'serial', (c) => c.primaryKey())
    : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

/** Migration `0002_servers`. */
export async function createServerTables(db: Kysely<any>, engine: Engine): Promise<void> {
  await withSerialId(engine, db.schema.createTable('compute_instance'))
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addColumn('user_id', NAME, (c) => c.notNull())
    .addColumn('display_name', NAME, (c) => c.notNull())
    .addColumn('host', NAME)
    .addColumn('node', NAME)
    .addColumn('vm_state', 'varchar(32)', (c) => c.notNull())
    .addColumn('task_state', 'varchar(64)')
    .addColumn('power_state', 'integer', (c) => c.notNull())
    .addColumn('image_ref', NAME, (c) => c.notNull())
    .addColumn('flavor_id', NAME, (c) => c.notNull())
    .addColumn('availability_zone', NAME)
    .addColumn('reservation_id', NAME, (c) => c.notNull())
    .addColumn('launch_index', 'integer', (c) => c.notNull())
    .addColumn('key_name', NAME)
    .addColumn('locked', 'integer', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .addColumn('launched_at', TIME)
    .addColumn('terminated_at', TIME)
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .addColumn('deleted_at', TIME)
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('compute_instance_project').on('compute_instance').columns(['project_id', 'deleted']).execute();
  await db.schema.createIndex('compute_instance_host').on('compute_instance').columns(['host', 'deleted']).execute();
  await withSerialId(engine, db.schema.createTable('compute_instance_action'))
    .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
    .addColumn('request_id', NAME, (c) => c.notNull())
    .addColumn('action', NAME, (c) => c.notNull())
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addColumn('user_id', NAME, (c) => c.notNull())
    .addColumn('start_time', TIME, (c) => c.notNull())
    .addColumn('finish_time', TIME)
    .addColumn('message', NAME)
    .addColumn('updated_at', TIME)
    .execute();
  await db.schema.createIndex('compute_instance_action_uuid').on('compute_instance_action').columns(['instance_uuid', 'request_id']).execute();
  await withSerialId(engine, db.schema.createTable('compute_instance_action_event'))
    .addColumn('action_id', 'integer', (c) => c.notNull())
    .addColumn('event', NAME, (c) => c.notNull())
    .addColumn('start_time', TIME, (c) => c.notNull())
    .addColumn('finish_time', TIME)
    .addColumn('result', NAME)
    .addColumn('traceback', 'text')
    .addColumn('host', NAME)
    .addColumn('details', 'text')
    .execute();
  await db.schema.createIndex('compute_instance_action_event_action').on('compute_instance_action_event').column('action_id').execute();
}
