import type { Identity } from '../identity.js';
import { Fault, forbidden } from '../../platform/http/faults.js';
import { getRegion } from './lookups.js';

/** Keystone's CircularRegionHierarchyError (400). */
const circular = (parent: string) => new Fault(400, `The specified parent region ${parent} would create a circular region hierarchy.`, {}, 'BadRequest');

/** Fails with 400 when making `parentId` the parent of `regionId` would close a cycle (404 for a missing ancestor). */
export async function assertNoCycle(id: Identity, regionId: string, parentId: string | null): Promise<void> {
  let cur = parentId;
  for (let depth = 0; cur; depth++) {
    if (cur === regionId || depth > 1000) throw circular(cur);
    cur = (await getRegion(id, cur)).parent_region_id;
  }
}

/** The ids of a region's descendants (cycle-safe), children before grandchildren. */
export async function descendants(id: Identity, regionId: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set([regionId]);
  let frontier = [regionId];
  while (frontier.length) {
    const rows = await id.db.selectFrom('region').select('id').where('parent_region_id', 'in', frontier).execute();
    frontier = rows.map((r) => r.id).filter((r) => !seen.has(r));
    for (const r of frontier) { seen.add(r); out.push(r); }
  }
  return out;
}

/**
 * Keystone's region delete: refused (403) when the region or any descendant has endpoints,
 * otherwise the region and all its descendants go.
 */
export async function deleteRegionTree(id: Identity, regionId: string): Promise<void> {
  await getRegion(id, regionId);
  const tree = [regionId, ...(await descendants(id, regionId))];
  const used = await id.db.selectFrom('endpoint').select('id').where('region_id', 'in', tree).limit(1).executeTakeFirst();
  if (used) throw forbidden(`Unable to delete region ${regionId} because it or its child regions have associated endpoints.`);
  await id.db.deleteFrom('region').where('id', 'in', tree).execute();
}
