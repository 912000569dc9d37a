/** Usages: per provider (each inventory class, 0 when unused) and per project/user (GET /usages). */
import type { Db } from './context.js';

/** Usage of each class a provider has inventory of. */
export async function providerUsages(db: Db, uuid: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('placement_inventory').select(['resource_class', 'used']).where('provider_uuid', '=', uuid).orderBy('resource_class').execute();
  return Object.fromEntries(rows.map((r) => [r.resource_class, Number(r.used)]));
}

/** Usage per class of a project's (and optionally a user's) consumers (GET /usages before 1.38). */
export async function projectUsages(db: Db, projectId: string, userId?: string): Promise<Record<string, number>> {
  let q = db.selectFrom('placement_allocation as a').innerJoin('placement_consumer as c', 'c.uuid', 'a.consumer_uuid')
    .select(['a.resource_class', (eb) => eb.fn.sum<number>('a.used').as('used')]).where('c.project_id', '=', projectId);
  if (userId !== undefined) q = q.where('c.user_id', '=', userId);
  const rows = await q.groupBy('a.resource_class').orderBy('a.resource_class').execute();
  return Object.fromEntries(rows.map((r) => [r.resource_class, Number(r.used)]));
}

/**
 * Usage grouped by consumer type with each type's consumer count (GET /usages from 1.38).
 * `consumerType` filters by one type; `all` folds everything under "all"; `unknown` is the
 * consumers written without a type.
 */
export async function projectUsagesByType(db: Db, projectId: string, userId?: string, consumerType?: string): Promise<Record<string, Record<string, number>>> {
  let q = db.selectFrom('placement_allocation as a').innerJoin('placement_consumer as c', 'c.uuid', 'a.consumer_uuid')
    .select(['a.resource_class', 'a.used', 'a.consumer_uuid', 'c.consumer_type']).where('c.project_id', '=', projectId);
  if (userId !== undefined) q = q.where('c.user_id', '=', userId);
  if (consumerType === 'unknown') q = q.where('c.consumer_type', 'is', null);
  else if (consumerType !== undefined && consumerType !== 'all') q = q.where('c.consumer_type', '=', consumerType);
  const rows = await q.execute();
  const groups = new Map<string, { usage: Map<string, number>; consumers: Set<string> }>();
  for (const r of rows) {
    const group = consumerType === 'all' ? 'all' : r.consumer_type ?? 'unknown';
    let g = groups.get(group);
    if (!g) { g = { usage: new Map(), consumers: new Set() }; groups.set(group, g); }
    g.usage.set(r.resource_class, (g.usage.get(r.resource_class) ?? 0) + Number(r.used));
    g.consumers.add(r.consumer_uuid);
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [name, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[name] = { ...Object.fromEntries([...g.usage].sort(([a], [b]) => (a < b ? -1 : 1))), consumer_count: g.consumers.size };
  }
  return out;
}
