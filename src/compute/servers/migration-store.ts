/**
 * Migration records of instance moves (see migrations-schema.ts). A resize records one when the
 * API accepts it and moves its status along as the host does the work: Nova's statuses
 * pre-migrating, finished (the instance waits in VERIFY_RESIZE), confirming → confirmed,
 * reverting → reverted, error.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ComputeDB } from '../store/schema.js';
import { nowIso } from '../store/db.js';
import type { ServersDB } from './schema.js';
import type { MigrationRow, MigrationsDB } from './migrations-schema.js';
import type { Instance, InstanceFlavor } from './store.js';

type Db = Kysely<MigrationsDB & Pick<ComputeDB, 'compute_flavor' | 'compute_node'>>;
/** The servers' database handle seen with the migrations table (one database). */
const asDb = (db: Kysely<ServersDB>): Db => db as unknown as Db;

/** The integer id of a flavor (by its flavorid), or null when it is gone. */
async function flavorRowId(db: Db, flavorid: string): Promise<number | null> {
  const r = await db.selectFrom('compute_flavor').select('id').where('flavorid', '=', flavorid).executeTakeFirst();
  return r ? Number(r.id) : null;
}

/** Records the resize of `inst` from `from` to `to` on its own host (status pre-migrating). */
export async function recordResize(
  sdb: Kysely<ServersDB>, inst: Instance, from: InstanceFlavor, to: InstanceFlavor, by: { readonly userId: string; readonly projectId: string },
): Promise<MigrationRow> {
  const db = asDb(sdb);
  const node = inst.node ?? inst.body.hypervisor_hostname ?? inst.host;
  const hostIp = inst.host
    ? (await db.selectFrom('compute_node').select('host_ip').where('host', '=', inst.host).orderBy('id').executeTakeFirst())?.host_ip ?? null
    : null;
  const row: Omit<MigrationRow, 'id'> = {
    uuid: randomUUID(), instance_uuid: inst.uuid, source_compute: inst.host, dest_compute: inst.host, source_node: node, dest_node: node, dest_host: hostIp,
    old_instance_type_id: await flavorRowId(db, from.flavorid), new_instance_type_id: await flavorRowId(db, to.flavorid),
    status: 'pre-migrating', migration_type: from.flavorid === to.flavorid ? 'migration' : 'resize', hidden: 0,
    user_id: by.userId, project_id: by.projectId || inst.project_id, created_at: nowIso(), updated_at: null,
  };
  await db.insertInto('compute_instance_migration').values(row as never).execute();
  return { ...(await db.selectFrom('compute_instance_migration').selectAll().where('uuid', '=', row.uuid).executeTakeFirstOrThrow()) };
}

/** Sets the status of the instance's latest migration (none recorded: nothing to do). */
export async function setMigrationStatus(sdb: Kysely<ServersDB>, instanceUuid: string, status: string): Promise<void> {
  const db = asDb(sdb);
  const latest = await db.selectFrom('compute_instance_migration').select('id').where('instance_uuid', '=', instanceUuid).orderBy('id', 'desc').executeTakeFirst();
  if (!latest) return;
  await db.updateTable('compute_instance_migration').set({ status, updated_at: nowIso() }).where('id', '=', latest.id).execute();
}
