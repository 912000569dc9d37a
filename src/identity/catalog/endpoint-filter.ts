import type { Identity } from '../identity.js';
import type { EndpointRow } from '../store/schema.js';
import { parseJsonObject } from '../util.js';

/** The attributes an endpoint group may filter on (Keystone's endpoint group schema). */
export const ENDPOINT_GROUP_FILTER_KEYS = ['interface', 'service_id', 'region_id'] as const;

/** Endpoints whose attributes equal every filter of an endpoint group, as Keystone matches them. */
export function matchEndpointGroup(endpoints: readonly EndpointRow[], filters: Record<string, unknown>): EndpointRow[] {
  return endpoints.filter((ep) => Object.entries(filters).every(([k, v]) => (ep as unknown as Record<string, unknown>)[k] === v));
}

/** The endpoints of the endpoint group `groupId` (all endpoints, enabled or not, as Keystone). */
export async function endpointsInGroup(id: Identity, groupId: string): Promise<EndpointRow[]> {
  const group = await id.db.selectFrom('endpoint_group').select('filters').where('id', '=', groupId).executeTakeFirst();
  if (!group) return [];
  const all = await id.db.selectFrom('endpoint').selectAll().execute();
  return matchEndpointGroup(all, parseJsonObject(group.filters));
}

/**
 * OS-EP-FILTER: the endpoints associated with a project, directly or through endpoint groups,
 * keyed by id. Empty means the project has no endpoint filter (Keystone then serves the full catalog).
 */
export async function endpointsForProject(id: Identity, projectId: string): Promise<Map<string, EndpointRow>> {
  const out = new Map<string, EndpointRow>();
  const direct = await id.db.selectFrom('project_endpoint').innerJoin('endpoint', 'endpoint.id', 'project_endpoint.endpoint_id')
    .selectAll('endpoint').where('project_endpoint.project_id', '=', projectId).execute();
  for (const ep of direct) out.set(ep.id, ep);
  const groups = await id.db.selectFrom('project_endpoint_group').innerJoin('endpoint_group', 'endpoint_group.id', 'project_endpoint_group.endpoint_group_id')
    .select('endpoint_group.filters').where('project_endpoint_group.project_id', '=', projectId).execute();
  if (groups.length) {
    const all = await id.db.selectFrom('endpoint').selectAll().execute();
    for (const g of groups) for (const ep of matchEndpointGroup(all, parseJsonObject(g.filters))) if (!out.has(ep.id)) out.set(ep.id, ep);
  }
  return out;
}
