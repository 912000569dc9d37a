import { createHash } from 'node:crypto';
import type { Identity } from '../identity.js';
import { isUniqueViolation } from '../../platform/db/connect.js';

/** Entities of an LDAP-backed domain that get public ids. */
export type MappedType = 'user' | 'group';

/** A public id's mapping row. */
export interface Mapping { readonly publicId: string; readonly domainId: string; readonly localId: string; readonly type: MappedType }

/**
 * Keystone's sha256 id generator: the hex SHA-256 of the mapping's values concatenated in the
 * order of their sorted keys (domain_id, entity_type, local_id). Stable across restarts and
 * identical to the ids Keystone gives the same directory entries.
 */
export function publicIdOf(domainId: string, localId: string, type: MappedType): string {
  return createHash('sha256').update(domainId, 'utf8').update(type, 'utf8').update(localId, 'utf8').digest('hex');
}

/** Public ids known to be stored, per identity instance and write generation. */
const stored = new WeakMap<Identity, { gen: number; ids: Set<string> }>();

function knownIds(id: Identity): Set<string> {
  let s = stored.get(id);
  if (!s || s.gen !== id.generation) { s = { gen: id.generation, ids: new Set() }; stored.set(id, s); }
  if (s.ids.size > 200_000) s.ids.clear();
  return s.ids;
}

/**
 * The public ids of directory entities, creating their `id_mapping` rows when missing (as
 * Keystone does the first time it returns an entity). Returns localId → publicId.
 */
export async function mapIds(id: Identity, domainId: string, type: MappedType, localIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const l of localIds) out.set(l, publicIdOf(domainId, l, type));
  const known = knownIds(id);
  const unknown = [...out.values()].filter((p) => !known.has(p));
  for (let i = 0; i < unknown.length; i += 500) {
    const chunk = unknown.slice(i, i + 500);
    const rows = await id.db.selectFrom('id_mapping').select('public_id').where('public_id', 'in', chunk).execute();
    for (const r of rows) known.add(r.public_id);
  }
  for (const [localId, publicId] of out) {
    if (known.has(publicId)) continue;
    try {
      await id.db.insertInto('id_mapping').values({ public_id: publicId, domain_id: domainId, local_id: localId, entity_type: type }).execute();
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    known.add(publicId);
  }
  return out;
}

/** Resolved mappings, per identity instance and write generation (only hits: a miss may be mapped any moment). */
const resolved = new WeakMap<Identity, { gen: number; rows: Map<string, Mapping> }>();

/** The mapping of a public id, or undefined. Hits are cached until the next identity write. */
export async function resolvePublicId(id: Identity, publicId: string): Promise<Mapping | undefined> {
  let c = resolved.get(id);
  if (!c || c.gen !== id.generation) { c = { gen: id.generation, rows: new Map() }; resolved.set(id, c); }
  const hit = c.rows.get(publicId);
  if (hit) return hit;
  const r = await id.db.selectFrom('id_mapping').selectAll().where('public_id', '=', publicId).executeTakeFirst();
  if (!r || (r.entity_type !== 'user' && r.entity_type !== 'group')) return undefined;
  const m: Mapping = { publicId: r.public_id, domainId: r.domain_id, localId: r.local_id, type: r.entity_type };
  if (c.rows.size > 100_000) c.rows.clear();
  c.rows.set(publicId, m);
  return m;
}
