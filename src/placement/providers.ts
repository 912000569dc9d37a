/**
 * Resource providers: create, read, rename, (re)parent, delete and list with placement's
 * filters. Trees are kept by `parent_uuid`/`root_uuid` columns; every provider of a tree points
 * at its root, so "the tree of X" is one indexed lookup.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Expression, type SqlBool } from 'kysely';
import { isForeignKeyViolation, isUniqueViolation } from '../platform/db/connect.js';
import { nowIso, type Db, type PlacementContext } from './context.js';
import { ProviderGenerationConflict, badRequest, codes, conflict, notFound } from './faults.js';
import type { ProviderRow } from './store/schema.js';
import { transact } from './tx.js';

/** Placement's MAX_INT: the largest total, unit or amount a column holds. */
export const MAX_INT = 0x7fffffff;

/** A provider as the API shows it. */
export interface Provider {
  readonly uuid: string;
  readonly name: string;
  readonly generation: number;
  readonly parent_provider_uuid: string | null;
  readonly root_provider_uuid: string;
  readonly updated_at: string;
}

export const toProvider = (r: ProviderRow): Provider => ({
  uuid: r.uuid, name: r.name, generation: Number(r.generation), parent_provider_uuid: r.parent_uuid, root_provider_uuid: r.root_uuid,
  updated_at: r.updated_at ?? r.created_at,
});

export async function getProvider(db: Db, uuid: string): Promise<ProviderRow | undefined> {
  return db.selectFrom('placement_provider').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

/** The provider, or a 404 worded by `message` (default: placement's "No resource provider with uuid X found"). */
export async function requireProvider(db: Db, uuid: string, message?: string): Promise<ProviderRow> {
  const p = await getProvider(db, uuid);
  if (!p) throw notFound(message ?? `No resource provider with uuid ${uuid} found`);
  return p;
}

/**
 * Compare-and-swap of a provider's generation (placement's increment_generation): the write
 * that depended on what was read at `expected` commits only if nobody moved the provider since.
 */
export async function bumpGeneration(tx: Db, uuid: string, expected: number, by = 1): Promise<number> {
  const r = await tx.updateTable('placement_provider').set({ generation: expected + by, updated_at: nowIso() })
    .where('uuid', '=', uuid).where('generation', '=', expected).executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new ProviderGenerationConflict();
  return expected + by;
}

/** What identifies a new provider. */
export interface NewProvider { readonly uuid?: string; readonly name: string; readonly parentUuid?: string | null }

/** Creates a provider (a root, or a child of `parentUuid`); 409 `placement.duplicate_name` on a taken name or uuid. */
export async function createProvider(ctx: PlacementContext, p: NewProvider): Promise<Provider> {
  const uuid = p.uuid ?? randomUUID();
  const unable = (why: string) => badRequest(`Unable to create resource provider "${p.name}", ${uuid}: Object action create failed because: ${why}`);
  if (!p.name) throw unable('name is required');
  try {
    return await ctx.db.transaction().execute(async (tx) => {
      let root = uuid;
      if (p.parentUuid) {
        if (p.parentUuid === uuid) throw unable('parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.');
        const parent = await getProvider(tx, p.parentUuid);
        if (!parent) throw unable('parent provider UUID does not exist.');
        root = parent.root_uuid;
      }
      const row: ProviderRow = { uuid, name: p.name, generation: 0, parent_uuid: p.parentUuid ?? null, root_uuid: root, created_at: nowIso(), updated_at: null };
      await tx.insertInto('placement_provider').values(row).execute();
      return toProvider(row);
    });
  } catch (err) {
    if (isForeignKeyViolation(err)) throw unable('parent provider UUID does not exist.');
    if (!isUniqueViolation(err)) throw err;
    const taken: string[] = [];
    if (await getProvider(ctx.db, uuid)) taken.push(`uuid: ${uuid}`);
    if (await ctx.db.selectFrom('placement_provider').select('uuid').where('name', '=', p.name).executeTakeFirst()) taken.push(`name: ${p.name}`);
    throw conflict(`Conflicting resource provider ${taken.join(', ') || `name: ${p.name}`} already exists.`, codes.DUPLICATE_NAME);
  }
}

/** The uuids of `root`'s subtree in `rows` (itself included). */
export function subtreeOf(rows: readonly ProviderRow[], root: string): Set<string> {
  const children = new Map<string, string[]>();
  for (const r of rows) if (r.parent_uuid) children.set(r.parent_uuid, [...(children.get(r.parent_uuid) ?? []), r.uuid]);
  const out = new Set<string>();
  const stack = [root];
  while (stack.length) {
    const u = stack.pop()!;
    if (out.has(u)) continue;
    out.add(u);
    stack.push(...(children.get(u) ?? []));
  }
  return out;
}

/** A change to a provider: its name, and (when present) its parent (null un-parents). */
export interface ProviderUpdate { readonly name?: string; readonly parentUuid?: string | null }

/**
 * Renames and/or (re)parents a provider. Before 1.37 (`allowReparenting` false) a provider that
 * has a parent keeps it; a provider never moves under its own subtree. Moving a subtree points
 * every member at the new root.
 */
export async function updateProvider(ctx: PlacementContext, current: ProviderRow, u: ProviderUpdate, allowReparenting: boolean): Promise<Provider> {
  const unable = (why: string, action = 'update') => badRequest(`Unable to save resource provider ${current.uuid}: Object action ${action} failed because: ${why}`);
  try {
    return await ctx.db.transaction().execute(async (tx) => {
      const me = await requireProvider(tx, current.uuid);
      const now = nowIso();
      const set: Partial<ProviderRow> = { updated_at: now };
      if (u.name !== undefined) set.name = u.name;
      let moveRoot: { members: Set<string>; root: string } | undefined;
      if (u.parentUuid !== undefined) {
        if (u.parentUuid !== null) {
          const parent = await getProvider(tx, u.parentUuid);
          if (!parent) throw unable('parent provider UUID does not exist.', 'create');
          if (me.parent_uuid !== null && me.parent_uuid !== parent.uuid && !allowReparenting) throw unable('re-parenting a provider is not currently allowed.');
          const tree = await tx.selectFrom('placement_provider').selectAll().where('root_uuid', '=', me.root_uuid).execute();
          const members = subtreeOf(tree, me.uuid);
          if (members.has(parent.uuid)) throw unable('creating loop in the provider tree is not allowed.');
          set.parent_uuid = parent.uuid;
          set.root_uuid = parent.root_uuid;
          moveRoot = { members, root: parent.root_uuid };
        } else if (me.parent_uuid !== null) {
          if (!allowReparenting) throw unable('un-parenting a provider is not currently allowed.');
          const tree = await tx.selectFrom('placement_provider').selectAll().where('root_uuid', '=', me.root_uuid).execute();
          set.parent_uuid = null;
          set.root_uuid = me.uuid;
          moveRoot = { members: subtreeOf(tree, me.uuid), root: me.uuid };
        }
      }
      await tx.updateTable('placement_provider').set(set).where('uuid', '=', me.uuid).execute();
      if (moveRoot && moveRoot.root !== me.root_uuid) {
        const others = [...moveRoot.members].filter((m) => m !== me.uuid);
        if (others.length) await tx.updateTable('placement_provider').set({ root_uuid: moveRoot.root, updated_at: now }).where('uuid', 'in', others).execute();
      }
      return toProvider(await requireProvider(tx, me.uuid));
    });
  } catch (err) {
    if (isForeignKeyViolation(err)) throw unable('parent provider UUID does not exist.');
    if (isUniqueViolation(err)) throw conflict(`Conflicting resource provider ${u.name} already exists.`, codes.DUPLICATE_NAME);
    throw err;
  }
}

/** Deletes a provider with its inventories, traits and aggregate links; 409 when it has children or allocations. */
export async function deleteProvider(ctx: PlacementContext, uuid: string): Promise<void> {
  const hasChildren = () => conflict(`Unable to delete parent resource provider ${uuid}: It has child resource providers.`, codes.PROVIDER_CANNOT_DELETE_PARENT);
  try {
    await transact(ctx, async (tx) => {
      const me = await requireProvider(tx, uuid, `No resource provider with uuid ${uuid} found for delete`);
      if (await tx.selectFrom('placement_provider').select('uuid').where('parent_uuid', '=', uuid).limit(1).executeTakeFirst()) throw hasChildren();
      if (await tx.selectFrom('placement_allocation').select('consumer_uuid').where('provider_uuid', '=', uuid).limit(1).executeTakeFirst()) {
        throw conflict(`Unable to delete resource provider ${uuid}: Resource provider has allocations.`, codes.PROVIDER_IN_USE);
      }
      await tx.deleteFrom('placement_inventory').where('provider_uuid', '=', uuid).execute();
      await tx.deleteFrom('placement_provider_trait').where('provider_uuid', '=', uuid).execute();
      await tx.deleteFrom('placement_provider_aggregate').where('provider_uuid', '=', uuid).execute();
      // Only if nothing (an allocation, a new inventory) moved the provider since it was read.
      const r = await tx.deleteFrom('placement_provider').where('uuid', '=', uuid).where('generation', '=', me.generation).executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) throw new ProviderGenerationConflict();
    });
  } catch (err) {
    if (isForeignKeyViolation(err)) throw hasChildren();
    throw err;
  }
}

/** The filters of GET /resource_providers, already parsed. */
export interface ProviderFilters {
  readonly name?: string;
  readonly uuid?: string;
  readonly inTree?: string;
  /** Trait sets, each satisfied by any one of its traits; all sets must be satisfied. */
  readonly requiredTraits?: readonly ReadonlySet<string>[];
  readonly forbiddenTraits?: ReadonlySet<string>;
  /** Aggregate sets, each satisfied by membership of any one; all sets must be satisfied. */
  readonly memberOf?: readonly ReadonlySet<string>[];
  readonly forbiddenAggs?: ReadonlySet<string>;
  /** Resource class → amount the provider itself must have room for. */
  readonly resources?: ReadonlyMap<string, number>;
}

/**
 * SQL for "providers with room for `amount` of `rc`": an inventory of the class whose
 * (total − reserved) × ratio leaves room beyond the current usage, and whose min_unit, max_unit
 * and step_size admit the amount. `amount` must be a validated integer ≤ MAX_INT.
 */
export const withCapacity = (rc: string, amount: number) => sql<{ uuid: string }>`SELECT i.provider_uuid FROM placement_inventory i
  WHERE i.resource_class = ${rc} AND ${capacityCondition('i', amount)}`;

/**
 * The SQL condition "inventory `alias` has room for `amount`" (a validated integer ≤ MAX_INT),
 * written so that no integer sum can overflow a column type.
 */
export const capacityCondition = (alias: string, amount: number) => sql<SqlBool>`${sql.ref(`${alias}.used`)} <= (${sql.ref(`${alias}.total`)} - ${sql.ref(`${alias}.reserved`)}) * ${sql.ref(`${alias}.allocation_ratio`)} - ${amount}
    AND ${sql.ref(`${alias}.min_unit`)} <= ${amount} AND ${sql.ref(`${alias}.max_unit`)} >= ${amount} AND ${amount} % ${sql.ref(`${alias}.step_size`)} = 0`;

const inTraitsSql = (traits: Iterable<string>) => sql`SELECT provider_uuid FROM placement_provider_trait WHERE trait IN (${sql.join([...traits])})`;
const inAggsSql = (aggs: Iterable<string>) => sql`SELECT provider_uuid FROM placement_provider_aggregate WHERE aggregate_uuid IN (${sql.join([...aggs])})`;

/** The providers matching every filter, oldest first. */
export async function listProviders(db: Db, f: ProviderFilters): Promise<ProviderRow[]> {
  const conds: Expression<SqlBool>[] = [];
  if (f.inTree !== undefined) {
    const tree = await getProvider(db, f.inTree);
    if (!tree) return [];
    conds.push(sql<SqlBool>`p.root_uuid = ${tree.root_uuid}`);
  }
  for (const any of f.requiredTraits ?? []) if (any.size) conds.push(sql<SqlBool>`p.uuid IN (${inTraitsSql(any)})`);
  if (f.forbiddenTraits?.size) conds.push(sql<SqlBool>`p.uuid NOT IN (${inTraitsSql(f.forbiddenTraits)})`);
  for (const any of f.memberOf ?? []) if (any.size) conds.push(sql<SqlBool>`p.uuid IN (${inAggsSql(any)})`);
  if (f.forbiddenAggs?.size) conds.push(sql<SqlBool>`p.uuid NOT IN (${inAggsSql(f.forbiddenAggs)})`);
  for (const [rc, amount] of f.resources ?? []) {
    if (amount > MAX_INT) return [];
    conds.push(sql<SqlBool>`p.uuid IN (${withCapacity(rc, amount)})`);
  }
  let q = db.selectFrom('placement_provider as p').selectAll('p');
  if (f.name !== undefined) q = q.where('p.name', '=', f.name);
  if (f.uuid !== undefined) q = q.where('p.uuid', '=', f.uuid);
  for (const c of conds) q = q.where(c);
  return q.orderBy('p.created_at').orderBy('p.uuid').execute();
}
