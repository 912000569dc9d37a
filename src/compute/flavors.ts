/**
 * Flavors (Nova's `Flavor` object): the sizes servers are made from, their extra specs and the
 * projects a private flavor is shared with. Non-admin callers see public flavors and the private
 * ones shared with their project; everything else is "not found" to them, as in Nova.
 */
import { randomUUID } from 'node:crypto';
import type { Caller, ComputeContext } from './context.js';
import { badRequest, conflict, notFound } from './faults.js';
import type { FlavorRow } from './store/schema.js';
import { bool, insertWithId, isUniqueViolation, nowIso, transact, type Db } from './store/db.js';
import { userRegExp } from '../platform/user-regexp.js';

/** What creating a flavor takes (already validated by the API schema). */
export interface NewFlavor {
  readonly name: string;
  readonly flavorid?: string | null;
  readonly memory_mb: number;
  readonly vcpus: number;
  readonly root_gb: number;
  readonly ephemeral_gb?: number;
  readonly swap?: number;
  readonly rxtx_factor?: number;
  readonly is_public?: boolean;
  readonly description?: string | null;
}

/** A flavor with its extra specs. */
export interface Flavor extends FlavorRow { extra_specs: Record<string, string> }

export const flavorNotFound = (id: string) => notFound(`Flavor ${id} could not be found.`);

/** Nova's sort keys for flavor lists. */
export const FLAVOR_SORT_KEYS = [
  'created_at', 'description', 'disabled', 'ephemeral_gb', 'flavorid', 'id', 'is_public', 'memory_mb', 'name',
  'root_gb', 'rxtx_factor', 'swap', 'updated_at', 'vcpu_weight', 'vcpus',
] as const;
export type FlavorSortKey = typeof FLAVOR_SORT_KEYS[number];

async function withSpecs(db: Db, rows: FlavorRow[]): Promise<Flavor[]> {
  if (rows.length === 0) return [];
  const specs = await db.selectFrom('compute_flavor_extra_spec').selectAll().where('flavor_id', 'in', rows.map((r) => r.id)).execute();
  const by = new Map<number, Record<string, string>>();
  for (const s of specs) {
    const m = by.get(Number(s.flavor_id)) ?? {};
    m[s.spec_key] = s.spec_value;
    by.set(Number(s.flavor_id), m);
  }
  return rows.map((r) => ({ ...normalise(r), extra_specs: by.get(Number(r.id)) ?? {} }));
}

/** Engines return numbers as strings now and then (bigint, double): one shape for everyone. */
function normalise(r: FlavorRow): FlavorRow {
  return {
    ...r, id: Number(r.id), memory_mb: Number(r.memory_mb), vcpus: Number(r.vcpus), root_gb: Number(r.root_gb),
    ephemeral_gb: Number(r.ephemeral_gb), swap: Number(r.swap), rxtx_factor: Number(r.rxtx_factor),
    vcpu_weight: r.vcpu_weight === null ? null : Number(r.vcpu_weight), disabled: Number(r.disabled), is_public: Number(r.is_public),
  };
}

/** Projects a flavor is shared with. */
export async function flavorProjects(db: Db, flavorId: number): Promise<string[]> {
  const rows = await db.selectFrom('compute_flavor_project').select('project_id').where('flavor_id', '=', flavorId).orderBy('project_id').execute();
  return rows.map((r) => r.project_id);
}

/** Whether the caller may see a flavor (admin, public, or shared with the caller's project). */
async function visible(db: Db, caller: Caller | undefined, row: FlavorRow): Promise<boolean> {
  if (!caller || caller.isAdmin || bool(row.is_public)) return true;
  if (!caller.projectId) return false;
  const r = await db.selectFrom('compute_flavor_project').select('flavor_id').where('flavor_id', '=', row.id).where('project_id', '=', caller.projectId).executeTakeFirst();
  return r !== undefined;
}

/** A flavor by its API id as the caller sees it (no caller: the service itself sees all), or 404. */
export async function getFlavor(ctx: ComputeContext, flavorid: string, caller?: Caller, db: Db = ctx.db): Promise<Flavor> {
  const row = await db.selectFrom('compute_flavor').selectAll().where('flavorid', '=', flavorid).executeTakeFirst();
  if (!row || !(await visible(db, caller, row))) throw flavorNotFound(flavorid);
  return (await withSpecs(db, [row]))[0];
}

/** Creates a flavor; 409 when its id or name is taken (Nova's FlavorIdExists / FlavorExists). */
export async function createFlavor(ctx: ComputeContext, f: NewFlavor): Promise<Flavor> {
  const flavorid = f.flavorid === undefined || f.flavorid === null || f.flavorid === '' ? randomUUID() : String(f.flavorid);
  const name = f.name.trim();
  const row: Omit<FlavorRow, 'id'> = {
    flavorid, name, memory_mb: f.memory_mb, vcpus: f.vcpus, root_gb: f.root_gb, ephemeral_gb: f.ephemeral_gb ?? 0,
    swap: f.swap ?? 0, rxtx_factor: f.rxtx_factor ?? 1.0, vcpu_weight: null, disabled: 0, is_public: f.is_public === false ? 0 : 1,
    description: f.description ?? null, created_at: nowIso(), updated_at: null,
  };
  try {
    const id = await insertWithId(ctx.db, ctx.engine, 'compute_flavor', row);
    ctx.notify('flavor.create', { flavorid, name });
    return { ...row, id, extra_specs: {} };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const byId = await ctx.db.selectFrom('compute_flavor').select('id').where('flavorid', '=', flavorid).executeTakeFirst();
    if (byId) throw conflict(`Flavor with ID ${flavorid} already exists.`);
    throw conflict(`Flavor with name ${name} already exists.`);
  }
}

/** Deletes a flavor with its extra specs and access list; 404 if there is none. */
export async function deleteFlavor(ctx: ComputeContext, flavorid: string): Promise<void> {
  await transact(ctx.db, async (tx) => {
    const row = await tx.selectFrom('compute_flavor').select('id').where('flavorid', '=', flavorid).executeTakeFirst();
    if (!row) throw flavorNotFound(flavorid);
    await tx.deleteFrom('compute_flavor_extra_spec').where('flavor_id', '=', row.id).execute();
    await tx.deleteFrom('compute_flavor_project').where('flavor_id', '=', row.id).execute();
    await tx.deleteFrom('compute_flavor').where('id', '=', row.id).execute();
  });
  ctx.notify('flavor.delete', { flavorid });
}

/** Sets a flavor's description (the only mutable attribute, 2.55). */
export async function updateFlavorDescription(ctx: ComputeContext, flavorid: string, description: string | null): Promise<Flavor> {
  const r = await ctx.db.updateTable('compute_flavor').set({ description, updated_at: nowIso() }).where('flavorid', '=', flavorid).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw flavorNotFound(flavorid);
  ctx.notify('flavor.update', { flavorid });
  return getFlavor(ctx, flavorid);
}

/** Filters of a flavor list (Nova's `_get_flavors`). */
export interface FlavorFilters {
  /** true: public (plus those shared with the caller's project); false: private only; null: all. */
  readonly isPublic: boolean | null;
  readonly disabled?: boolean;
  readonly minMemoryMb?: number;
  readonly minRootGb?: number;
  readonly name?: string;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** A name filter: Nova matches it as a regular expression (one we cannot run in linear time matches literally). */
function nameMatcher(pattern: string): (name: string) => boolean {
  const re = userRegExp(pattern);
  return re instanceof RegExp ? (n) => re.test(n) : (n) => n.includes(pattern);
}

/**
 * Flavors the caller may see, filtered, sorted by `[sortKey, id]` in `sortDir` and paged after
 * `marker` (a flavor id the caller can see; otherwise 400 "marker not found").
 */
export async function listFlavors(
  ctx: ComputeContext, caller: Caller, filters: FlavorFilters,
  page: { sortKey: FlavorSortKey; sortDir: 'asc' | 'desc'; limit: number; marker?: string },
): Promise<Flavor[]> {
  const rows = (await ctx.db.selectFrom('compute_flavor').selectAll().execute()).map(normalise);
  const shared = caller.projectId
    ? new Set((await ctx.db.selectFrom('compute_flavor_project').select('flavor_id').where('project_id', '=', caller.projectId).execute()).map((r) => Number(r.flavor_id)))
    : new Set<number>();
  const seen = rows.filter((r) => caller.isAdmin || bool(r.is_public) || shared.has(r.id));
  const matchName = filters.name !== undefined ? nameMatcher(filters.name) : undefined;
  const filtered = seen.filter((r) => {
    if (filters.minMemoryMb !== undefined && r.memory_mb < filters.minMemoryMb) return false;
    if (filters.minRootGb !== undefined && r.root_gb < filters.minRootGb) return false;
    if (filters.disabled !== undefined && bool(r.disabled) !== filters.disabled) return false;
    if (matchName && !matchName(r.name)) return false;
    if (filters.isPublic === true) return bool(r.is_public) || shared.has(r.id);
    if (filters.isPublic === false) return !bool(r.is_public);
    return true;
  });
  const dir = page.sortDir === 'desc' ? -1 : 1;
  const key = page.sortKey;
  const order = (a: FlavorRow, b: FlavorRow) => dir * (compare(a[key], b[key]) || a.id - b.id);
  filtered.sort(order);
  let start = 0;
  if (page.marker !== undefined) {
    const m = seen.find((r) => r.flavorid === page.marker);
    if (!m) throw badRequest(`marker [${page.marker}] not found`);
    start = filtered.findIndex((r) => order(r, m) > 0);
    if (start < 0) start = filtered.length;
  }
  return withSpecs(ctx.db, filtered.slice(start, start + page.limit));
}

// ---- extra specs ----

/** Merges `specs` into a flavor's extra specs (create or overwrite each key). */
export async function setExtraSpecs(ctx: ComputeContext, flavor: Flavor, specs: Readonly<Record<string, string>>): Promise<void> {
  await transact(ctx.db, async (tx) => {
    for (const [key, value] of Object.entries(specs)) {
      const r = await tx.updateTable('compute_flavor_extra_spec').set({ spec_value: value }).where('flavor_id', '=', flavor.id).where('spec_key', '=', key).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        try {
          await tx.insertInto('compute_flavor_extra_spec').values({ flavor_id: flavor.id, spec_key: key, spec_value: value }).execute();
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
          throw conflict(`Flavor ${flavor.flavorid} extra spec cannot be updated or created after 10 retries.`);
        }
      }
    }
  });
}

/** Removes one extra spec; 404 when the flavor has no such key. */
export async function deleteExtraSpec(ctx: ComputeContext, flavor: Flavor, key: string): Promise<void> {
  const r = await ctx.db.deleteFrom('compute_flavor_extra_spec').where('flavor_id', '=', flavor.id).where('spec_key', '=', key).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw notFound(`Flavor ${flavor.flavorid} has no extra specs with key ${key}.`);
}

// ---- access ----

/** Shares a private flavor with a project; 409 when it already is. */
export async function addFlavorAccess(ctx: ComputeContext, flavor: Flavor, projectId: string): Promise<void> {
  try {
    await ctx.db.insertInto('compute_flavor_project').values({ flavor_id: flavor.id, project_id: projectId }).execute();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw conflict(`Flavor access already exists for flavor ${flavor.flavorid} and project ${projectId} combination.`);
  }
  ctx.notify('flavor.update', { flavorid: flavor.flavorid, projects: await flavorProjects(ctx.db, flavor.id) });
}

/** Stops sharing a flavor with a project; 404 when it was not shared. */
export async function removeFlavorAccess(ctx: ComputeContext, flavor: Flavor, projectId: string): Promise<void> {
  const r = await ctx.db.deleteFrom('compute_flavor_project').where('flavor_id', '=', flavor.id).where('project_id', '=', projectId).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw notFound(`Flavor access not found for ${flavor.flavorid} / ${projectId} combination.`);
  ctx.notify('flavor.update', { flavorid: flavor.flavorid, projects: await flavorProjects(ctx.db, flavor.id) });
}
