/**
 * Resource classes: the standard ones (always present, immutable) and `CUSTOM_*` ones an
 * operator or service creates, renames (1.2–1.6), ensures (1.7+) and deletes while unused.
 */
import { isUniqueViolation } from '../platform/db/connect.js';
import { nowIso, type Db, type PlacementContext } from './context.js';
import { badRequest, conflict, notFound } from './faults.js';
import { STANDARD_RESOURCE_CLASSES } from './standard.js';
import { forgetName, unknownNames } from './names.js';
import type { ResourceClassRow } from './store/schema.js';

const standardOrder = new Map(STANDARD_RESOURCE_CLASSES.map((n, i) => [n, i]));

/** Class order of listings: standard classes in os-resource-classes order, then custom ones by name. */
export function classOrder(a: string, b: string): number {
  const rank = (n: string) => standardOrder.get(n) ?? Number.MAX_SAFE_INTEGER;
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Every resource class, in classOrder. */
export async function listResourceClasses(db: Db): Promise<ResourceClassRow[]> {
  return (await db.selectFrom('placement_resource_class').selectAll().execute()).sort((a, b) => classOrder(a.name, b.name));
}

export async function getResourceClass(db: Db, name: string): Promise<ResourceClassRow | undefined> {
  return db.selectFrom('placement_resource_class').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function requireResourceClass(db: Db, name: string): Promise<ResourceClassRow> {
  const rc = await getResourceClass(db, name);
  if (!rc) throw notFound(`No such resource class ${name}.`);
  return rc;
}

/** The names among `names` that are not resource classes. */
export const unknownResourceClasses = (db: Db, names: Iterable<string>): Promise<string[]> => unknownNames(db, 'placement_resource_class', names);

/** Creates a custom class; 409 when it exists. */
export async function createResourceClass(ctx: PlacementContext, name: string): Promise<ResourceClassRow> {
  const row: ResourceClassRow = { name, standard: 0, created_at: nowIso(), updated_at: null };
  try {
    await ctx.db.insertInto('placement_resource_class').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Conflicting resource class already exists: ${name}`);
    throw err;
  }
  return row;
}

/** Creates the custom class unless it exists (1.7's PUT); whether it was created. */
export async function ensureResourceClass(ctx: PlacementContext, name: string): Promise<{ row: ResourceClassRow; created: boolean }> {
  const existing = await getResourceClass(ctx.db, name);
  if (existing) return { row: existing, created: false };
  try {
    return { row: await createResourceClass(ctx, name), created: true };
  } catch (err) {
    const raced = await getResourceClass(ctx.db, name);
    if (raced) return { row: raced, created: false };
    throw err;
  }
}

/** Renames a custom class (1.2–1.6), carrying its inventories and allocations along. */
export async function renameResourceClass(ctx: PlacementContext, from: string, to: string): Promise<ResourceClassRow> {
  try {
    return await ctx.db.transaction().execute(async (tx) => {
      const rc = await requireResourceClass(tx, from);
      if (rc.standard) throw badRequest(`Cannot update standard resource class ${from}`);
      if (from === to) return rc;
      const now = nowIso();
      await tx.insertInto('placement_resource_class').values({ name: to, standard: 0, created_at: rc.created_at, updated_at: now }).execute();
      await tx.updateTable('placement_inventory').set({ resource_class: to }).where('resource_class', '=', from).execute();
      await tx.updateTable('placement_allocation').set({ resource_class: to }).where('resource_class', '=', from).execute();
      await tx.deleteFrom('placement_resource_class').where('name', '=', from).execute();
      forgetName(ctx.db, 'placement_resource_class', from);
      return { name: to, standard: 0, created_at: rc.created_at, updated_at: now };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Resource class already exists: ${to}`);
    throw err;
  }
}

/** Deletes a custom class that no inventory uses. */
export async function deleteResourceClass(ctx: PlacementContext, name: string): Promise<void> {
  await ctx.db.transaction().execute(async (tx) => {
    const rc = await requireResourceClass(tx, name);
    if (rc.standard) throw badRequest(`Error in delete resource class: Cannot delete standard resource class ${name}.`);
    if (await tx.selectFrom('placement_inventory').select('provider_uuid').where('resource_class', '=', name).limit(1).executeTakeFirst()) {
      throw conflict(`Error in delete resource class: Cannot delete resource class ${name}. Class is in use in inventory.`);
    }
    await tx.deleteFrom('placement_resource_class').where('name', '=', name).execute();
  });
  forgetName(ctx.db, 'placement_resource_class', name);
}
