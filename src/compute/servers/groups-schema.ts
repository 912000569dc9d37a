/**
 * The tables of server groups (Nova's instance groups, kept in its API database): one row per
 * group with its policy and rules, one row per member instance. Groups are deleted outright, as
 * in Nova; a member row goes when its instance is deleted.
 */
import type { Kysely } from 'kysely';
import type { Engine } from '../../platform/db/connect.js';
import type { ServersDB } from './schema.js';

export interface ServerGroupRow {
  id: number;
  uuid: string;
  name: string;
  project_id: string;
  user_id: string;
  /** affinity, anti-affinity, soft-affinity or soft-anti-affinity. */
  policy: string;
  /** JSON object of the policy's rules (`{"max_server_per_host": 2}`), `{}` without. */
  rules: string;
  created_at: string;
  updated_at: string | null;
}

export interface ServerGroupMemberRow {
  group_id: number;
  instance_uuid: string;
  created_at: string;
}

/** The servers' tables plus the groups' (members join instances). */
export interface GroupsDB extends ServersDB {
  compute_server_group: ServerGroupRow;
  compute_server_group_member: ServerGroupMemberRow;
}

const NAME = 'varchar(255)';
const TIME = 'varchar(32)';

/** Migration `0003_server_groups`. */
export async function createServerGroupTables(db: Kysely<any>, engine: Engine): Promise<void> {
  const t = db.schema.createTable('compute_server_group');
  await (engine === 'postgres' ? t.addColumn('id', 'serial', (c) => c.primaryKey()) : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()))
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('name', NAME, (c) => c.notNull())
    .addColumn('project_id', NAME, (c) => c.notNull())
    .addColumn('user_id', NAME, (c) => c.notNull())
    .addColumn('policy', 'varchar(32)', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addColumn('updated_at', TIME)
    .execute();
  await db.schema.createIndex('compute_server_group_project').on('compute_server_group').columns(['project_id', 'user_id']).execute();
  await db.schema.createTable('compute_server_group_member')
    .addColumn('group_id', 'integer', (c) => c.notNull())
    .addColumn('instance_uuid', 'varchar(36)', (c) => c.notNull())
    .addColumn('created_at', TIME, (c) => c.notNull())
    .addPrimaryKeyConstraint('compute_server_group_member_pk', ['group_id', 'instance_uuid'])
    .execute();
  await db.schema.createIndex('compute_server_group_member_instance').on('compute_server_group_member').column('instance_uuid').execute();
}
