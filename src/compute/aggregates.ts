/**
 * Host aggregates (Nova's AggregateAPI): named groups of compute hosts with metadata; the
 * `availability_zone` key makes an aggregate an availability zone, with Nova's consistency
 * rules — a host is in at most one zone, a zone has a name, and hosts with servers do not
 * change zone. Placement mirrors aggregate membership through the `aggregateChanged` hook.
 */
import { randomUUID } from 'node:crypto';
import type { ComputeContext } from './context.js';
import { badRequest, conflict, notFound } from './faults.js';
import type { AggregateRow } from './store/schema.js';
import { insertWithId, isUniqueViolation, nowIso, transact, type Db } from './store/db.js';

/** An aggregate with its hosts and metadata. */
export interface Aggregate extends AggregateRow {
  hosts: string[];
  metadata: Record<string, string>;
}

export const aggregateNotFound = (id: number | string) => notFound(`Aggregate ${id} could not be found.`);

/** Which operation found an inconsistency (Nova words each differently). */
type Action = 'add' | 'remove' | 'update' | 'update_meta';
const invalidAction = (action: Action, id: number, reason: string) => {
  const what = { add: 'Cannot add host to aggregate', remove: 'Cannot remove host from aggregate', update: 'Cannot update aggregate', update_meta: 'Cannot update metadata of aggregate' }[action];
  return `${what} ${id}. Reason: ${reason}.`;
};

async function load(db: Db, rows: AggregateRow[]): Promise<Aggregate[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => Number(r.id));
  const hosts = await db.selectFrom('compute_aggregate_host').selectAll().where('aggregate_id', 'in', ids).orderBy('host').execute();
  const meta = await db.selectFrom('compute_aggregate_metadata').selectAll().where('aggregate_id', 'in', ids).execute();
  return rows.map((r) => {
    const id = Number(r.id);
    return {
      ...r, id,
      hosts: hosts.filter((h) => Number(h.aggregate_id) === id).map((h) => h.host),
      metadata: Object.fromEntries(meta.filter((m) => Number(m.aggregate_id) === id).map((m) => [m.meta_key, m.meta_value])),
    };
  });
}

export async function getAggregate(ctx: ComputeContext, id: number, db: Db = ctx.db): Promise<Aggregate> {
  const row = await db.selectFrom('compute_aggregate').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw aggregateNotFound(id);
  return (await load(db, [row]))[0];
}

export async function listAggregates(ctx: ComputeContext): Promise<Aggregate[]> {
  return load(ctx.db, await ctx.db.selectFrom('compute_aggregate').selectAll().orderBy('id').execute());
}

/** Aggregates that contain `host`. */
export async function aggregatesOfHost(db: Db, host: string): Promise<Aggregate[]> {
  const ids = (await db.selectFrom('compute_aggregate_host').select('aggregate_id').where('host', '=', host).execute()).map((r) => Number(r.aggregate_id));
  if (!ids.length) return [];
  return load(db, await db.selectFrom('compute_aggregate').selectAll().where('id', 'in', ids).orderBy('id').execute());
}

/** The availability zone of each compute host that is in a zoned aggregate (zones joined by ','). */
export async function hostZones(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('compute_aggregate_host')
    .innerJoin('compute_aggregate_metadata', 'compute_aggregate_metadata.aggregate_id', 'compute_aggregate_host.aggregate_id')
    .select(['compute_aggregate_host.host as host', 'compute_aggregate_metadata.meta_value as zone'])
    .where('compute_aggregate_metadata.meta_key', '=', 'availability_zone')
    .execute();
  const zones = new Map<string, Set<string>>();
  for (const r of rows) (zones.get(r.host) ?? zones.set(r.host, new Set()).get(r.host)!).add(r.zone);
  return new Map([...zones].map(([h, z]) => [h, [...z].sort().join(',')]));
}

async function tellPlacement(ctx: ComputeContext, agg: Aggregate, removed: readonly string[] = []): Promise<void> {
  if (!ctx.hooks.aggregateChanged) return;
  try {
    await ctx.hooks.aggregateChanged({ uuid: agg.uuid, hosts: agg.hosts, metadata: agg.metadata }, removed);
  } catch (err) {
    ctx.log.warn({ err, aggregate: agg.uuid }, 'aggregate not mirrored to placement');
  }
}

/** Servers on any of `hosts` (through the servers hook). */
async function serversOn(ctx: ComputeContext, hosts: readonly string[]): Promise<number> {
  if (!ctx.hooks.serversOnHost) return 0;
  let n = 0;
  for (const h of hosts) n += (await ctx.hooks.serversOnHost(h)).length;
  return n;
}

/** Nova's `is_safe_to_update_az`: a named zone, no host in two zones, hosts with servers stay put. */
async function checkZoneChange(ctx: ComputeContext, db: Db, agg: Aggregate, metadata: Readonly<Record<string, string | null>>, action: Action, hosts?: readonly string[], checkServers = false): Promise<void> {
  if (!('availability_zone' in metadata)) return;
  const zone = metadata.availability_zone;
  if (!zone) throw badRequest(invalidAction(action, agg.id, `Aggregate ${agg.name} does not support empty named availability zone`));
  const targets = hosts ?? agg.hosts;
  const conflicting: string[] = [];
  for (const h of targets) {
    for (const other of await aggregatesOfHost(db, h)) {
      const z = other.metadata.availability_zone;
      if (z !== undefined && z !== zone && other.id !== agg.id) conflicting.push(z);
    }
  }
  if (conflicting.length) {
    throw new ZoneConflict(invalidAction(action, agg.id, `One or more hosts already in availability zone(s) [${[...new Set(conflicting)].map((z) => `'${z}'`).join(', ')}]`));
  }
  if (checkServers && agg.metadata.availability_zone !== zone && (await serversOn(ctx, targets)) > 0) {
    throw new ZoneConflict(invalidAction(action, agg.id, 'One or more hosts contain instances in this zone'));
  }
}

/** An inconsistent zone change (the API maps it to 400 or 409 depending on the operation). */
export class ZoneConflict extends Error {}

/** Creates an aggregate, optionally as an availability zone; 409 if the name is taken. */
export async function createAggregate(ctx: ComputeContext, name: string, zone?: string | null): Promise<Aggregate> {
  const now = nowIso();
  let id: number;
  try {
    id = await transact(ctx.db, async (tx) => {
      const newId = await insertWithId(tx, ctx.engine, 'compute_aggregate', { uuid: randomUUID(), name, created_at: now, updated_at: null });
      if (zone) await tx.insertInto('compute_aggregate_metadata').values({ aggregate_id: newId, meta_key: 'availability_zone', meta_value: zone }).execute();
      return newId;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Aggregate ${name} already exists.`);
    throw err;
  }
  ctx.notify('aggregate.create.end', { aggregate_id: id, name });
  const agg = await getAggregate(ctx, id);
  await tellPlacement(ctx, agg);
  return agg;
}

/** Renames an aggregate and/or changes its zone. */
export async function updateAggregate(ctx: ComputeContext, id: number, changes: { name?: string; availability_zone?: string | null }): Promise<Aggregate> {
  const agg = await getAggregate(ctx, id);
  if (changes.name !== undefined && changes.name !== agg.name) {
    try {
      await ctx.db.updateTable('compute_aggregate').set({ name: changes.name, updated_at: nowIso() }).where('id', '=', id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`Aggregate ${changes.name} already exists.`);
      throw err;
    }
  }
  if ('availability_zone' in changes) {
    const meta = { availability_zone: changes.availability_zone ?? null };
    try {
      await checkZoneChange(ctx, ctx.db, agg, meta, 'update', undefined, true);
    } catch (err) {
      if (err instanceof ZoneConflict) throw badRequest(err.message);
      throw err;
    }
    await writeMetadata(ctx, id, meta);
  }
  const updated = await getAggregate(ctx, id);
  await tellPlacement(ctx, updated);
  return updated;
}

async function writeMetadata(ctx: ComputeContext, id: number, metadata: Readonly<Record<string, string | null>>): Promise<void> {
  await transact(ctx.db, async (tx) => {
    for (const [key, value] of Object.entries(metadata)) {
      if (value === null) {
        await tx.deleteFrom('compute_aggregate_metadata').where('aggregate_id', '=', id).where('meta_key', '=', key).execute();
        continue;
      }
      const r = await tx.updateTable('compute_aggregate_metadata').set({ meta_value: value }).where('aggregate_id', '=', id).where('meta_key', '=', key).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) await tx.insertInto('compute_aggregate_metadata').values({ aggregate_id: id, meta_key: key, meta_value: value }).execute();
    }
    await tx.updateTable('compute_aggregate').set({ updated_at: nowIso() }).where('id', '=', id).execute();
  });
}

/** Sets (string) or removes (null) metadata keys; 400 on an inconsistent zone change. */
export async function setAggregateMetadata(ctx: ComputeContext, id: number, metadata: Readonly<Record<string, string | null>>): Promise<Aggregate> {
  const agg = await getAggregate(ctx, id);
  try {
    await checkZoneChange(ctx, ctx.db, agg, metadata, 'update_meta', undefined, true);
  } catch (err) {
    if (err instanceof ZoneConflict) throw badRequest(err.message);
    throw err;
  }
  await writeMetadata(ctx, id, metadata);
  const updated = await getAggregate(ctx, id);
  await tellPlacement(ctx, updated);
  return updated;
}

/** Deletes an empty aggregate (400 while it has hosts). */
export async function deleteAggregate(ctx: ComputeContext, id: number): Promise<void> {
  const agg = await getAggregate(ctx, id);
  if (agg.hosts.length) throw badRequest(invalidAction('remove', id, 'Host aggregate is not empty'));
  await transact(ctx.db, async (tx) => {
    await tx.deleteFrom('compute_aggregate_metadata').where('aggregate_id', '=', id).execute();
    await tx.deleteFrom('compute_aggregate').where('id', '=', id).execute();
  });
  ctx.notify('aggregate.delete.end', { aggregate_id: id });
  await tellPlacement(ctx, { ...agg, hosts: [] }, []);
}

async function hasComputeService(db: Db, host: string): Promise<boolean> {
  const r = await db.selectFrom('compute_service').select('id').where('host', '=', host).where('binary', '=', 'nova-compute').executeTakeFirst();
  return r !== undefined;
}

/** The zone `host` is in through aggregates other than `exceptId` (undefined: none). */
async function zoneOfHost(db: Db, host: string, exceptId?: number): Promise<string | undefined> {
  for (const a of await aggregatesOfHost(db, host)) if (a.id !== exceptId && a.metadata.availability_zone) return a.metadata.availability_zone;
  return undefined;
}

/**
 * Adds a compute host to an aggregate: the host must run nova-compute (404), must not end up in
 * two zones, and a host with servers must not change zone (409 either way).
 */
export async function addAggregateHost(ctx: ComputeContext, id: number, host: string): Promise<Aggregate> {
  if (!(await hasComputeService(ctx.db, host))) throw notFound(`Compute host ${host} could not be found.`);
  const agg = await getAggregate(ctx, id);
  try {
    await checkZoneChange(ctx, ctx.db, agg, agg.metadata, 'add', [host]);
  } catch (err) {
    if (err instanceof ZoneConflict) throw conflict(err.message);
    throw err;
  }
  const newZone = agg.metadata.availability_zone;
  if (newZone && ctx.hooks.serversOnHost) {
    const servers = await ctx.hooks.serversOnHost(host);
    const oldZone = await zoneOfHost(ctx.db, host);
    if (servers.length && oldZone !== newZone) {
      throw conflict(invalidAction('add', id, `The host cannot be added to the aggregate as the availability zone of the host would change from '${oldZone ?? 'None'}' to '${newZone}' but the host already has ${servers.length} instance(s). Changing the AZ of an existing instance is not supported by this action. Move the instances away from this host then try again. If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this.`));
    }
  }
  try {
    await ctx.db.insertInto('compute_aggregate_host').values({ aggregate_id: id, host }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Aggregate ${id} already has host ${host}.`);
    throw err;
  }
  ctx.notify('aggregate.addhost.end', { aggregate_id: id, host_name: host, name: agg.name });
  const updated = await getAggregate(ctx, id);
  await tellPlacement(ctx, updated);
  return updated;
}

/** Removes a host from an aggregate (404 unless both exist and it is a member; 409 if its servers would change zone). */
export async function removeAggregateHost(ctx: ComputeContext, id: number, host: string): Promise<Aggregate> {
  const missing = () => notFound(`Cannot remove host ${host} in aggregate ${id}`);
  if (!(await hasComputeService(ctx.db, host))) throw missing();
  const agg = await ctx.db.selectFrom('compute_aggregate').select('id').where('id', '=', id).executeTakeFirst();
  if (!agg) throw missing();
  const current = await getAggregate(ctx, id);
  const zone = current.metadata.availability_zone;
  if (zone && ctx.hooks.serversOnHost) {
    const servers = await ctx.hooks.serversOnHost(host);
    const after = await zoneOfHost(ctx.db, host, id);
    if (servers.length && after !== zone) {
      throw conflict(invalidAction('remove', id, `The host cannot be removed from the aggregate as the availability zone of the host would change from '${zone}' to '${after ?? 'None'}' but the host already has ${servers.length} instance(s). Changing the AZ of an existing instance is not supported by this action. Move the instances away from this host then try again. If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this.`));
    }
  }
  const r = await ctx.db.deleteFrom('compute_aggregate_host').where('aggregate_id', '=', id).where('host', '=', host).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw missing();
  ctx.notify('aggregate.removehost.end', { aggregate_id: id, host_name: host });
  const updated = await getAggregate(ctx, id);
  await tellPlacement(ctx, updated, [host]);
  return updated;
}

/** Removes a host from every aggregate (its compute service is being deleted). */
export async function removeHostFromAllAggregates(ctx: ComputeContext, host: string): Promise<void> {
  const aggs = await aggregatesOfHost(ctx.db, host);
  await ctx.db.deleteFrom('compute_aggregate_host').where('host', '=', host).execute();
  for (const a of aggs) await tellPlacement(ctx, { ...a, hosts: a.hosts.filter((h) => h !== host) }, [host]);
}
