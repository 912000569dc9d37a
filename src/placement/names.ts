/**
 * Resource class and trait names known to exist, remembered per database handle as placement's
 * own caches do: a positive answer is kept, a miss asks the database. Deleting a class or trait
 * in this process forgets it; one deleted by another process only makes a query find nothing.
 */
import type { Db } from './context.js';

type Kind = 'placement_resource_class' | 'placement_trait';
const caches = new WeakMap<object, Record<Kind, Set<string>>>();

const cacheOf = (db: Db): Record<Kind, Set<string>> => {
  let c = caches.get(db);
  if (!c) { c = { placement_resource_class: new Set(), placement_trait: new Set() }; caches.set(db, c); }
  return c;
};

/** The names among `names` that do not exist in `table`. */
export async function unknownNames(db: Db, table: Kind, names: Iterable<string>): Promise<string[]> {
  const known = cacheOf(db)[table];
  const ask = [...new Set(names)].filter((n) => !known.has(n));
  if (!ask.length) return [];
  const found = new Set((await db.selectFrom(table).select('name').where('name', 'in', ask).execute()).map((r) => r.name));
  for (const n of found) known.add(n);
  return ask.filter((n) => !found.has(n));
}

/** Forgets a name this process deleted (or renamed). */
export function forgetName(db: Db, table: Kind, name: string): void {
  caches.get(db)?.[table].delete(name);
}
