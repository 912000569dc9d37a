/**
 * Traits: the standard os-traits set plus `CUSTOM_*` ones, and the traits of each provider
 * (replaced as a whole, guarded by the provider's generation).
 */
import { isUniqueViolation } from '../platform/db/connect.js';
import { nowIso, type Db, type PlacementContext } from './context.js';
import { badRequest, concurrentUpdate, conflict, notFound } from './faults.js';
import { bumpGeneration, requireProvider } from './providers.js';
import { STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS } from './standard.js';
import { forgetName, unknownNames } from './names.js';
import type { TraitRow } from './store/schema.js';
import { transact } from './tx.js';

/** GET /traits filters: `name=in:A,B` / `name=startswith:P`, and `associated=true|false`. */
export interface TraitFilters { readonly nameIn?: readonly string[]; readonly prefix?: string; readonly associated?: boolean }

export async function listTraits(db: Db, f: TraitFilters = {}): Promise<TraitRow[]> {
  let q = db.selectFrom('placement_trait').selectAll();
  if (f.nameIn) q = f.nameIn.length ? q.where('name', 'in', [...f.nameIn]) : q.where('name', '=', '\u0000');
  if (f.associated !== undefined) {
    const used = db.selectFrom('placement_provider_trait').select('trait');
    q = f.associated ? q.where('name', 'in', used) : q.where('name', 'not in', used);
  }
  const rows = await q.orderBy('name').execute();
  // A prefix is matched here: LIKE's escape and case rules differ between engines, and the table is small.
  return f.prefix === undefined ? rows : rows.filter((r) => r.name.startsWith(f.prefix!));
}

export async function getTrait(db: Db, name: string): Promise<TraitRow | undefined> {
  return db.selectFrom('placement_trait').selectAll().where('name', '=', name).executeTakeFirst();
}

/** The names among `names` that are not traits. */
export const unknownTraits = (db: Db, names: Iterable<string>): Promise<string[]> => unknownNames(db, 'placement_trait', names);

/** Creates a custom trait unless it exists; whether it was created. */
export async function ensureTrait(ctx: PlacementContext, name: string): Promise<{ row: TraitRow; created: boolean }> {
  const existing = await getTrait(ctx.db, name);
  if (existing) return { row: existing, created: false };
  const row: TraitRow = { name, standard: 0, created_at: nowIso(), updated_at: null };
  try {
    await ctx.db.insertInto('placement_trait').values(row).execute();
    return { row, created: true };
  } catch (err) {
    const raced = isUniqueViolation(err) ? await getTrait(ctx.db, name) : undefined;
    if (raced) return { row: raced, created: false };
    throw err;
  }
}

/** Deletes a custom trait no provider has. */
export async function deleteTrait(ctx: PlacementContext, name: string): Promise<void> {
  await ctx.db.transaction().execute(async (tx) => {
    const t = await getTrait(tx, name);
    if (!t) throw notFound(`No such trait(s): ${name}.`);
    if (t.standard) throw badRequest(`Cannot delete standard trait ${name}.`);
    if (await tx.selectFrom('placement_provider_trait').select('provider_uuid').where('trait', '=', name).limit(1).executeTakeFirst()) {
      throw conflict(`The trait ${name} is in use by a resource provider.`);
    }
    await tx.deleteFrom('placement_trait').where('name', '=', name).execute();
  });
  forgetName(ctx.db, 'placement_trait', name);
}

/** Trait order of listings: standard traits, then custom ones (as placement's ids order them), each by name. */
export const traitOrder = (a: string, b: string): number => Number(a.startsWith('CUSTOM_')) - Number(b.startsWith('CUSTOM_')) || (a < b ? -1 : a > b ? 1 : 0);

/** A provider's traits, by name. */
export async function providerTraits(db: Db, uuid: string): Promise<string[]> {
  return (await db.selectFrom('placement_provider_trait').select('trait').where('provider_uuid', '=', uuid).execute()).map((r) => r.trait).sort(traitOrder);
}

/**
 * Replaces a provider's traits when its generation is still `generation` (undefined: whatever
 * it is now); returns the new generation. Unknown traits are a 400.
 */
export async function setProviderTraits(ctx: PlacementContext, uuid: string, traits: readonly string[], generation?: number): Promise<number> {
  const wanted = [...new Set(traits)];
  return transact(ctx, async (tx) => {
    const rp = await requireProvider(tx, uuid);
    if (generation !== undefined && Number(rp.generation) !== generation) {
      throw concurrentUpdate("Resource provider's generation already changed. Please update the generation and try again.");
    }
    const missing = await unknownTraits(tx, wanted);
    if (missing.length) throw badRequest(`No such trait ${missing.join(', ')}`);
    const current = new Set(await providerTraits(tx, uuid));
    const add = wanted.filter((t) => !current.has(t));
    const remove = [...current].filter((t) => !wanted.includes(t));
    if (remove.length) await tx.deleteFrom('placement_provider_trait').where('provider_uuid', '=', uuid).where('trait', 'in', remove).execute();
    if (add.length) await tx.insertInto('placement_provider_trait').values(add.map((trait) => ({ provider_uuid: uuid, trait }))).execute();
    return bumpGeneration(tx, uuid, Number(rp.generation));
  }, { attempts: generation === undefined ? undefined : 2, retryUnique: true });
}

/**
 * Makes sure the standard resource classes and traits exist (first start, or after an
 * upgrade that brought new ones). Idempotent; safe with several API processes starting at once.
 */
export async function ensureStandardNames(ctx: PlacementContext): Promise<void> {
  for (const [table, names] of [['placement_resource_class', STANDARD_RESOURCE_CLASSES], ['placement_trait', STANDARD_TRAITS]] as const) {
    const have = new Set((await ctx.db.selectFrom(table).select('name').execute()).map((r) => r.name));
    const missing = names.filter((n) => !have.has(n));
    const now = nowIso();
    for (let i = 0; i < missing.length; i += 200) {
      const rows = missing.slice(i, i + 200).map((name) => ({ name, standard: 1, created_at: now, updated_at: null }));
      try {
        await ctx.db.insertInto(table).values(rows).execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        for (const r of rows) await ctx.db.insertInto(table).values(r).execute().catch((e: unknown) => { if (!isUniqueViolation(e)) throw e; });
      }
    }
  }
}
