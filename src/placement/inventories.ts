/**
 * Inventories: how much of each resource class a provider has (total, reserved, allocation
 * ratio) and in which units it may be allocated (min_unit, max_unit, step_size). Every change
 * bumps the provider's generation; a class still allocated cannot be removed.
 */
import { isUniqueViolation } from '../platform/db/connect.js';
import { nowIso, type Db, type PlacementContext } from './context.js';
import { badRequest, codes, concurrentUpdate, conflict, notFound } from './faults.js';
import { MAX_INT, bumpGeneration, requireProvider } from './providers.js';
import { classOrder, unknownResourceClasses } from './resource-classes.js';
import type { InventoryRow } from './store/schema.js';
import { transact } from './tx.js';

/** One inventory record as the API reads and writes it. */
export interface Inventory {
  readonly total: number;
  readonly reserved: number;
  readonly min_unit: number;
  readonly max_unit: number;
  readonly step_size: number;
  readonly allocation_ratio: number;
}

export const INVENTORY_DEFAULTS: Omit<Inventory, 'total'> = { reserved: 0, min_unit: 1, max_unit: MAX_INT, step_size: 1, allocation_ratio: 1.0 };

/** What can be allocated: (total − reserved) × allocation_ratio, truncated as placement does. */
export const capacityOf = (i: Pick<Inventory, 'total' | 'reserved' | 'allocation_ratio'>): number => Math.trunc((i.total - i.reserved) * i.allocation_ratio);

/** The inventory fields of a request body, placement's defaults filled in (other keys ignored). */
export function inventoryFrom(raw: Readonly<Record<string, unknown>>): Inventory {
  const v = (k: keyof Inventory, d: number) => (raw[k] === undefined ? d : Number(raw[k]));
  const d = INVENTORY_DEFAULTS;
  return {
    total: Number(raw.total), reserved: v('reserved', d.reserved), min_unit: v('min_unit', d.min_unit), max_unit: v('max_unit', d.max_unit),
    step_size: v('step_size', d.step_size), allocation_ratio: v('allocation_ratio', d.allocation_ratio),
  };
}

export const toInventory = (r: InventoryRow): Inventory => ({
  total: Number(r.total), reserved: Number(r.reserved), min_unit: Number(r.min_unit), max_unit: Number(r.max_unit),
  step_size: Number(r.step_size), allocation_ratio: Number(r.allocation_ratio),
});

/**
 * Refuses an inventory leaving nothing to allocate: before 1.26 reserved must be below total,
 * from 1.26 it may equal it. Returns placement's message, or undefined when fine.
 */
export function capacityProblem(minor: number, rc: string, rpUuid: string, inv: Inventory): string | undefined {
  const cap = capacityOf(inv);
  if (minor < 26 ? cap <= 0 : cap < 0) {
    return `Invalid inventory for '${rc}' on resource provider '${rpUuid}'. The reserved value is greater than ${minor < 26 ? 'or equal to ' : ''}total.`;
  }
  return undefined;
}

export async function listInventories(db: Db, uuid: string): Promise<InventoryRow[]> {
  return db.selectFrom('placement_inventory').selectAll().where('provider_uuid', '=', uuid).orderBy('resource_class').execute();
}

/** Usage (sum of allocations) per resource class on one provider. */
export async function providerUsage(db: Db, uuid: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('placement_inventory').select(['resource_class', 'used']).where('provider_uuid', '=', uuid).execute();
  return new Map(rows.map((r) => [r.resource_class, Number(r.used)]));
}

const inUse = (classes: readonly string[], uuid: string) => `Inventory for '${classes.join(', ')}' on resource provider '${uuid}' in use.`;

/** Writes `invs` as the provider's whole inventory on `tx` (no generation handling); classes still allocated cannot go. */
export async function writeInventories(ctx: PlacementContext, tx: Db, uuid: string, invs: ReadonlyMap<string, Inventory>): Promise<void> {
  const existing = new Map((await listInventories(tx, uuid)).map((r) => [r.resource_class, r]));
  const remove = [...existing.keys()].filter((rc) => !invs.has(rc));
  if (remove.length) {
    const used = await tx.selectFrom('placement_allocation').select('resource_class').distinct()
      .where('provider_uuid', '=', uuid).where('resource_class', 'in', remove).execute();
    if (used.length) throw conflict(inUse(used.map((u) => u.resource_class).sort(classOrder), uuid), codes.INVENTORY_INUSE);
    await tx.deleteFrom('placement_inventory').where('provider_uuid', '=', uuid).where('resource_class', 'in', remove).execute();
  }
  const now = nowIso();
  for (const [rc, inv] of invs) {
    const old = existing.get(rc);
    if (!old) {
      await tx.insertInto('placement_inventory').values({ provider_uuid: uuid, resource_class: rc, ...inv, used: 0, created_at: now, updated_at: null }).execute();
      continue;
    }
    const o = toInventory(old);
    if (o.total === inv.total && o.reserved === inv.reserved && o.min_unit === inv.min_unit && o.max_unit === inv.max_unit
      && o.step_size === inv.step_size && o.allocation_ratio === inv.allocation_ratio) continue;
    if (Number(old.used) > capacityOf(inv)) ctx.log.warn({ provider: uuid, resourceClass: rc }, 'resource provider is now over capacity');
    await tx.updateTable('placement_inventory').set({ ...inv, updated_at: now }).where('provider_uuid', '=', uuid).where('resource_class', '=', rc).execute();
  }
}

/**
 * Replaces a provider's inventory (PUT …/inventories). With `generation` the provider must still
 * be there (else 409); without, the current generation is used and a lost race is retried.
 * Returns the new generation.
 */
export async function setInventories(ctx: PlacementContext, uuid: string, invs: ReadonlyMap<string, Inventory>, opts: { generation?: number; minor?: number } = {}): Promise<number> {
  for (const [rc, inv] of invs) {
    const p = capacityProblem(opts.minor ?? 39, rc, uuid, inv);
    if (p) throw badRequest(`Unable to update inventory for resource provider ${uuid}: ${p}`);
  }
  return transact(ctx, async (tx) => {
    const rp = await requireProvider(tx, uuid);
    const gen = Number(rp.generation);
    if (opts.generation !== undefined && gen !== opts.generation) throw concurrentUpdate('resource provider generation conflict');
    const unknown = await unknownResourceClasses(tx, invs.keys());
    if (unknown.length) throw badRequest(`Unknown resource class in inventory for resource provider ${uuid}: No such resource class ${unknown[0]}.`);
    await writeInventories(ctx, tx, uuid, invs);
    return bumpGeneration(tx, uuid, gen);
  }, { attempts: opts.generation === undefined ? undefined : 1, conflictMessage: (why) => `update conflict: ${why}` });
}

/** Adds one inventory record (POST …/inventories); 409 when the class already has one. */
export async function addInventory(ctx: PlacementContext, uuid: string, rc: string, inv: Inventory, minor: number): Promise<number> {
  const unable = (why: string) => badRequest(`Unable to create inventory for resource provider ${uuid}: ${why}`);
  const p = capacityProblem(minor, rc, uuid, inv);
  if (p) throw unable(p);
  try {
    return await transact(ctx, async (tx) => {
      const rp = await requireProvider(tx, uuid);
      if ((await unknownResourceClasses(tx, [rc])).length) throw unable(`No such resource class ${rc}.`);
      await tx.insertInto('placement_inventory').values({ provider_uuid: uuid, resource_class: rc, ...inv, used: 0, created_at: nowIso(), updated_at: null }).execute();
      return bumpGeneration(tx, uuid, Number(rp.generation));
    }, { conflictMessage: (why) => `Update conflict: ${why}` });
  } catch (err) {
    if (isUniqueViolation(err)) throw concurrentUpdate(`Update conflict: Inventory for '${rc}' on resource provider '${uuid}' already exists.`);
    throw err;
  }
}

/** Updates one existing inventory record (PUT …/inventories/{rc}) at the provider's `generation`. */
export async function updateInventory(ctx: PlacementContext, uuid: string, rc: string, inv: Inventory, generation: number, minor: number): Promise<number> {
  const p = capacityProblem(minor, rc, uuid, inv);
  if (p) throw badRequest(`Unable to update inventory for resource provider ${uuid}: ${p}`);
  return transact(ctx, async (tx) => {
    const rp = await requireProvider(tx, uuid);
    const gen = Number(rp.generation);
    if (gen !== generation) throw concurrentUpdate('resource provider generation conflict');
    if ((await unknownResourceClasses(tx, [rc])).length) throw notFound(`No such resource class ${rc}.`);
    const old = await tx.selectFrom('placement_inventory').selectAll().where('provider_uuid', '=', uuid).where('resource_class', '=', rc).executeTakeFirst();
    if (!old) throw badRequest(`No inventory record with resource class for resource provider ${uuid}: No inventory of class ${rc} found.`);
    if (Number(old.used) > capacityOf(inv)) ctx.log.warn({ provider: uuid, resourceClass: rc }, 'resource provider is now over capacity');
    await tx.updateTable('placement_inventory').set({ ...inv, updated_at: nowIso() }).where('provider_uuid', '=', uuid).where('resource_class', '=', rc).execute();
    return bumpGeneration(tx, uuid, gen);
  }, { attempts: 1, conflictMessage: (why) => `update conflict: ${why}` });
}

/** Deletes one inventory record (DELETE …/inventories/{rc}); 409 while allocated. */
export async function deleteInventory(ctx: PlacementContext, uuid: string, rc: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const rp = await requireProvider(tx, uuid);
    if ((await unknownResourceClasses(tx, [rc])).length) throw notFound(`No inventory of class ${rc} found for delete: No such resource class ${rc}.`);
    if (await tx.selectFrom('placement_allocation').select('consumer_uuid').where('provider_uuid', '=', uuid).where('resource_class', '=', rc).limit(1).executeTakeFirst()) {
      throw concurrentUpdate(`Unable to delete inventory of class ${rc}: ${inUse([rc], uuid)}`);
    }
    const r = await tx.deleteFrom('placement_inventory').where('provider_uuid', '=', uuid).where('resource_class', '=', rc).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`No inventory of class ${rc} found for delete: No inventory of class ${rc} found for delete`);
    await bumpGeneration(tx, uuid, Number(rp.generation));
  }, { conflictMessage: (why) => `Unable to delete inventory of class ${rc}: ${why}` });
}

/** Deletes all of a provider's inventory (DELETE …/inventories, 1.5+). */
export async function deleteAllInventories(ctx: PlacementContext, uuid: string): Promise<void> {
  await transact(ctx, async (tx) => {
    const rp = await requireProvider(tx, uuid);
    await writeInventories(ctx, tx, uuid, new Map());
    await bumpGeneration(tx, uuid, Number(rp.generation));
  }, {
    attempts: 1,
    conflictMessage: () => `Unable to delete inventory for resource provider ${uuid} because the inventory was updated by another process. Please retry your request.`,
  });
}
