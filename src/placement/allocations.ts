/**
 * Allocations: what each consumer (an instance, a migration…) uses of which provider. Writing a
 * consumer's allocations replaces them all, in one transaction that checks every provider's
 * capacity and ends by moving the generation of each provider it allocated from (a
 * compare-and-swap): two claims racing for the last capacity both read it free, but only the
 * first generation update succeeds; the loser runs again on fresh data and gets 409. That makes
 * claims race-free on PostgreSQL and MariaDB as on SQLite, without table locks.
 */
import { sql } from 'kysely';
import { isUniqueViolation } from '../platform/db/connect.js';
import { nowIso, type Db, type PlacementContext } from './context.js';
import { ProviderGenerationConflict, badRequest, concurrentUpdate, conflict } from './faults.js';
import type { Inventory } from './inventories.js';
import { bumpGeneration } from './providers.js';
import type { AllocationRow, ConsumerRow } from './store/schema.js';
import { transact } from './tx.js';

/** Resource class → amount. */
export type Resources = ReadonlyMap<string, number>;

/** One consumer's new allocations: provider → resources; an empty map removes them all. */
export interface ConsumerWrite {
  readonly consumer: string;
  readonly allocations: ReadonlyMap<string, Resources>;
  readonly projectId: string;
  readonly userId: string;
  /** The generation the caller believes the consumer has (null: it should not exist); checked with `checkGeneration`. */
  readonly consumerGeneration?: number | null;
  /** The consumer's type (1.38+); undefined leaves it as it is. */
  readonly consumerType?: string;
}

/** How a write is checked, and how its 400s are worded (PUT and POST word them differently). */
export interface WriteOptions {
  /** Microversion 1.28+: each consumer's generation must match. */
  readonly checkGeneration: boolean;
  readonly unknownClass?: (consumer: string, rc: string) => string;
}

/** The "incomplete consumer" project and user of allocations written before 1.8 (placement's defaults). */
export const INCOMPLETE_CONSUMER_ID = '00000000-0000-0000-0000-000000000000';

const key = (rp: string, rc: string) => `${rp}\u0000${rc}`;

/**
 * Moves each inventory's `used` by `delta` (provider+class key → change), one statement per
 * provider. Increments are applied under the row's lock on every engine, so concurrent writers
 * never lose an update.
 */
async function applyUsage(tx: Db, delta: ReadonlyMap<string, number>): Promise<void> {
  const byProvider = new Map<string, [string, number][]>();
  for (const [k, d] of delta) {
    if (d === 0) continue;
    const [rp, rc] = k.split('\u0000') as [string, string];
    byProvider.set(rp, [...(byProvider.get(rp) ?? []), [rc, d]]);
  }
  for (const rp of [...byProvider.keys()].sort()) {
    const changes = byProvider.get(rp)!;
    const step = sql<number>`CASE ${sql.join(changes.map(([rc, d]) => sql`WHEN resource_class = ${rc} THEN ${d}`), sql` `)} ELSE 0 END`;
    await tx.updateTable('placement_inventory').set((eb) => ({ used: eb('used', '+', step) }))
      .where('provider_uuid', '=', rp).where('resource_class', 'in', changes.map(([rc]) => rc)).execute();
  }
}

/**
 * Replaces the allocations of every consumer in `writes`, on `tx`. Throws placement faults for
 * what the caller must fix, and ProviderGenerationConflict when a provider moved meanwhile
 * (the transaction should run again). Returns each consumer's new generation (null: removed).
 */
export async function replaceAllocationsIn(tx: Db, writes: readonly ConsumerWrite[], opts: WriteOptions): Promise<Map<string, number | null>> {
  const consumerIds = writes.map((w) => w.consumer);
  const consumers = new Map<string, ConsumerRow>();
  // The consumers with their current allocations, in one read (every allocation has its consumer row).
  const old: Pick<AllocationRow, 'consumer_uuid' | 'provider_uuid' | 'resource_class' | 'used'>[] = [];
  if (consumerIds.length) {
    const rows = await tx.selectFrom('placement_consumer as c').leftJoin('placement_allocation as a', 'a.consumer_uuid', 'c.uuid')
      .select(['c.uuid', 'c.project_id', 'c.user_id', 'c.consumer_type', 'c.generation', 'c.created_at', 'c.updated_at', 'a.provider_uuid', 'a.resource_class', 'a.used'])
      .where('c.uuid', 'in', consumerIds).execute();
    for (const r of rows) {
      if (!consumers.has(r.uuid)) {
        consumers.set(r.uuid, { uuid: r.uuid, project_id: r.project_id, user_id: r.user_id, consumer_type: r.consumer_type, generation: r.generation, created_at: r.created_at, updated_at: r.updated_at });
      }
      if (r.provider_uuid !== null && r.resource_class !== null) old.push({ consumer_uuid: r.uuid, provider_uuid: r.provider_uuid, resource_class: r.resource_class, used: Number(r.used) });
    }
  }

  if (opts.checkGeneration) {
    for (const w of writes) {
      const c = consumers.get(w.consumer);
      const given = w.consumerGeneration === undefined ? null : w.consumerGeneration;
      if (c && Number(c.generation) !== given) throw concurrentUpdate(`consumer generation conflict - expected ${Number(c.generation)} but got ${given}`);
      if (!c && given !== null) throw concurrentUpdate(`consumer generation conflict - expected null but got ${given}`);
    }
  }

  const emptied = new Set(writes.filter((w) => w.allocations.size === 0).map((w) => w.consumer));
  // Providers whose generation this write moves: those allocated from, and those a removal frees.
  const touched = new Set<string>();
  const classes = new Set<string>();
  for (const w of writes) for (const [rp, res] of w.allocations) { touched.add(rp); for (const rc of res.keys()) classes.add(rc); }
  const allocated = [...touched];
  for (const a of old) if (emptied.has(a.consumer_uuid)) touched.add(a.provider_uuid);

  const rcList = [...classes];
  // The providers' generations and the inventories allocated from, in one read (one snapshot).
  const generations = new Map<string, number>();
  const inventories = new Map<string, { inv: Inventory; used: number }>();
  if (touched.size) {
    type Row = { uuid: string; generation: number; resource_class: string | null; total: number | null; reserved: number | null; min_unit: number | null; max_unit: number | null; step_size: number | null; allocation_ratio: number | null; used: number | null };
    const rows: Row[] = rcList.length
      ? await tx.selectFrom('placement_provider as p')
        .leftJoin('placement_inventory as i', (j) => j.onRef('i.provider_uuid', '=', 'p.uuid').on('i.resource_class', 'in', rcList))
        .select(['p.uuid', 'p.generation', 'i.resource_class', 'i.total', 'i.reserved', 'i.min_unit', 'i.max_unit', 'i.step_size', 'i.allocation_ratio', 'i.used'])
        .where('p.uuid', 'in', [...touched]).execute()
      : (await tx.selectFrom('placement_provider').select(['uuid', 'generation']).where('uuid', 'in', [...touched]).execute())
        .map((r) => ({ ...r, resource_class: null, total: null, reserved: null, min_unit: null, max_unit: null, step_size: null, allocation_ratio: null, used: null }));
    for (const r of rows) {
      generations.set(r.uuid, Number(r.generation));
      if (r.resource_class === null) continue;
      inventories.set(key(r.uuid, r.resource_class), {
        inv: { total: Number(r.total), reserved: Number(r.reserved), min_unit: Number(r.min_unit), max_unit: Number(r.max_unit), step_size: Number(r.step_size), allocation_ratio: Number(r.allocation_ratio) },
        used: Number(r.used),
      });
    }
  }
  for (const rp of allocated) if (!generations.has(rp)) throw badRequest(`Allocation for resource provider '${rp}' that does not exist.`);
  // Unknown classes are a 400 (before any capacity verdict); only looked up when some inventory is missing.
  const checkClasses = async () => {
    const known = new Set((await tx.selectFrom('placement_resource_class').select('name').where('name', 'in', [...classes]).execute()).map((r) => r.name));
    for (const w of writes) {
      for (const res of w.allocations.values()) {
        for (const rc of res.keys()) {
          if (!known.has(rc)) throw badRequest(opts.unknownClass?.(w.consumer, rc) ?? `Unable to allocate inventory for consumer ${w.consumer}: No such resource class ${rc}.`);
        }
      }
    }
  };

  // The change of each inventory's usage: minus what these consumers had, plus what they get.
  const delta = new Map<string, number>();
  const freed = new Map<string, number>();
  for (const a of old) {
    const k = key(a.provider_uuid, a.resource_class);
    delta.set(k, (delta.get(k) ?? 0) - Number(a.used));
    freed.set(k, (freed.get(k) ?? 0) + Number(a.used));
  }
  if (allocated.length) {
    const pairs = writes.reduce((n, w) => n + [...w.allocations.values()].reduce((m, r) => m + r.size, 0), 0);
    if (inventories.size < pairs) await checkClasses();
    const withInventory = new Set([...inventories.keys()].map((k) => k.split('\u0000')[0]));
    const missing = allocated.filter((rp) => !withInventory.has(rp));
    if (missing.length) throw conflict(`Unable to allocate inventory: Inventory for '${rcList.join(', ')}' on resource provider '${missing.join(', ')}' invalid.`);
    const needed = new Map<string, number>();
    for (const w of writes) {
      for (const [rp, res] of w.allocations) {
        for (const [rc, amount] of res) {
          const k = key(rp, rc);
          const row = inventories.get(k);
          if (!row) throw conflict(`Unable to allocate inventory: Inventory for '${rc}' on resource provider '${rp}' invalid.`);
          const inv = row.inv;
          if (amount < inv.min_unit || amount > inv.max_unit || amount % inv.step_size !== 0) {
            throw conflict(`Unable to allocate inventory: Unable to create allocation for '${rc}' on resource provider '${rp}'. The requested amount would violate inventory constraints.`);
          }
          const total = (needed.get(k) ?? 0) + amount;
          needed.set(k, total);
          delta.set(k, (delta.get(k) ?? 0) + amount);
          const before = row.used;
          const used = before - (freed.get(k) ?? 0);
          const capacity = (inv.total - inv.reserved) * inv.allocation_ratio;
          // Placement lets a write through that only shrinks an existing overage.
          if (capacity < used + total && used + total > before) {
            throw conflict(`Unable to allocate inventory: Unable to create allocation for '${rc}' on resource provider '${rp}'. The requested amount would exceed the capacity.`);
          }
        }
      }
    }
  }

  const now = nowIso();
  if (old.length) await tx.deleteFrom('placement_allocation').where('consumer_uuid', 'in', consumerIds).execute();
  const rows: AllocationRow[] = [];
  for (const w of writes) for (const [rp, res] of w.allocations) for (const [rc, used] of res) rows.push({ consumer_uuid: w.consumer, provider_uuid: rp, resource_class: rc, used, created_at: now, updated_at: null });
  for (let i = 0; i < rows.length; i += 500) await tx.insertInto('placement_allocation').values(rows.slice(i, i + 500)).execute();
  await applyUsage(tx, delta);

  // In a fixed order, so two writers touching the same providers never deadlock on them.
  for (const rp of [...touched].sort()) {
    const g = generations.get(rp);
    if (g === undefined) throw new ProviderGenerationConflict();
    await bumpGeneration(tx, rp, g);
  }

  const out = new Map<string, number | null>();
  const consumerConflict = () => concurrentUpdate('Inventory and/or allocations changed while attempting to allocate: Another thread concurrently updated the data. Please retry your update');
  for (const w of writes) {
    const c = consumers.get(w.consumer);
    if (w.allocations.size === 0) {
      if (c) {
        const r = await tx.deleteFrom('placement_consumer').where('uuid', '=', w.consumer).where('generation', '=', Number(c.generation)).executeTakeFirst();
        if (Number(r.numDeletedRows) !== 1) throw consumerConflict();
      }
      out.set(w.consumer, null);
      continue;
    }
    if (c) {
      const next = Number(c.generation) + 1;
      const r = await tx.updateTable('placement_consumer')
        .set({ generation: next, project_id: w.projectId, user_id: w.userId, consumer_type: w.consumerType ?? c.consumer_type, updated_at: now })
        .where('uuid', '=', w.consumer).where('generation', '=', Number(c.generation)).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw consumerConflict();
      out.set(w.consumer, next);
    } else {
      await tx.insertInto('placement_consumer').values({
        uuid: w.consumer, project_id: w.projectId, user_id: w.userId, consumer_type: w.consumerType ?? null, generation: 1, created_at: now, updated_at: null,
      }).execute();
      out.set(w.consumer, 1);
    }
  }
  return out;
}

/** replaceAllocationsIn in its own transaction, retried on provider generation races (placement's replace_all). */
export async function writeAllocations(ctx: PlacementContext, writes: readonly ConsumerWrite[], opts: WriteOptions): Promise<Map<string, number | null>> {
  try {
    return await transact(ctx, (tx) => replaceAllocationsIn(tx, writes, opts), {
      conflictMessage: (why) => `Inventory and/or allocations changed while attempting to allocate: ${why}`,
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw concurrentUpdate('Inventory and/or allocations changed while attempting to allocate: Another thread concurrently updated the data. Please retry your update');
    }
    throw err;
  }
}

/**
 * Removes all of a consumer's allocations (DELETE /allocations/{c}); false when it had none.
 * As in placement this moves no provider generation; the consumer's generation guards against
 * a concurrent write of the same consumer.
 */
export async function deleteAllocations(ctx: PlacementContext, consumer: string): Promise<boolean> {
  return transact(ctx, async (tx) => {
    const rows = await tx.selectFrom('placement_allocation').selectAll().where('consumer_uuid', '=', consumer).execute();
    if (!rows.length) return false;
    const c = await tx.selectFrom('placement_consumer').select('generation').where('uuid', '=', consumer).executeTakeFirst();
    await tx.deleteFrom('placement_allocation').where('consumer_uuid', '=', consumer).execute();
    await applyUsage(tx, new Map(rows.map((r) => [key(r.provider_uuid, r.resource_class), -Number(r.used)])));
    if (c) {
      const r = await tx.deleteFrom('placement_consumer').where('uuid', '=', consumer).where('generation', '=', Number(c.generation)).executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) throw new ProviderGenerationConflict();
    }
    return true;
  });
}

/** A consumer's allocations with what GET /allocations/{c} shows. */
export interface ConsumerAllocations {
  readonly allocations: Map<string, { generation: number; resources: Record<string, number> }>;
  readonly consumer?: ConsumerRow;
  readonly lastModified?: string;
}

export async function consumerAllocations(db: Db, consumer: string): Promise<ConsumerAllocations> {
  const rows = await db.selectFrom('placement_allocation as a').innerJoin('placement_provider as p', 'p.uuid', 'a.provider_uuid')
    .select(['a.provider_uuid', 'a.resource_class', 'a.used', 'a.created_at', 'p.generation']).where('a.consumer_uuid', '=', consumer)
    .orderBy('a.provider_uuid').orderBy('a.resource_class').execute();
  const allocations = new Map<string, { generation: number; resources: Record<string, number> }>();
  let lastModified: string | undefined;
  for (const r of rows) {
    let e = allocations.get(r.provider_uuid);
    if (!e) { e = { generation: Number(r.generation), resources: {} }; allocations.set(r.provider_uuid, e); }
    e.resources[r.resource_class] = Number(r.used);
    if (!lastModified || r.created_at > lastModified) lastModified = r.created_at;
  }
  const c = rows.length ? await db.selectFrom('placement_consumer').selectAll().where('uuid', '=', consumer).executeTakeFirst() : undefined;
  return { allocations, consumer: c, lastModified };
}

/** A provider's allocations by consumer (GET /resource_providers/{uuid}/allocations). */
export async function providerAllocations(db: Db, uuid: string): Promise<{ allocations: Map<string, { resources: Record<string, number>; consumer_generation: number | null }>; lastModified?: string }> {
  const rows = await db.selectFrom('placement_allocation as a').leftJoin('placement_consumer as c', 'c.uuid', 'a.consumer_uuid')
    .select(['a.consumer_uuid', 'a.resource_class', 'a.used', 'a.created_at', 'c.generation']).where('a.provider_uuid', '=', uuid)
    .orderBy('a.consumer_uuid').orderBy('a.resource_class').execute();
  const allocations = new Map<string, { resources: Record<string, number>; consumer_generation: number | null }>();
  let lastModified: string | undefined;
  for (const r of rows) {
    let e = allocations.get(r.consumer_uuid);
    if (!e) { e = { resources: {}, consumer_generation: r.generation === null ? null : Number(r.generation) }; allocations.set(r.consumer_uuid, e); }
    e.resources[r.resource_class] = Number(r.used);
    if (!lastModified || r.created_at > lastModified) lastModified = r.created_at;
  }
  return { allocations, lastModified };
}
