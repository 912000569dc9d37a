import type { Identity } from '../identity.js';
import { memo } from '../assignments/effective.js';
import { parseJsonObject } from '../util.js';
import { endpointsForProject } from './endpoint-filter.js';
import { formatEndpointUrl } from './url-template.js';

/** One endpoint of a token's catalog. */
export interface CatalogEndpoint { id: string; interface: string; region: string | null; region_id: string | null; url: string }
/** One service of a token's catalog. */
export interface CatalogEntry { id: string; type: string; name: string; endpoints: CatalogEndpoint[] }

interface RawCatalog { entries: CatalogEntry[]; filtered: boolean }

async function rawCatalog(id: Identity, projectId: string | undefined): Promise<RawCatalog> {
  const services = await id.db.selectFrom('catalog_service').selectAll().where('enabled', '=', 1).orderBy('id').execute();
  const endpoints = await id.db.selectFrom('endpoint').selectAll().where('enabled', '=', 1).orderBy('id').execute();
  const filter = projectId ? await endpointsForProject(id, projectId) : new Map();
  const filtered = filter.size > 0;
  const entries: CatalogEntry[] = [];
  for (const svc of services) {
    const eps = endpoints.filter((e) => e.service_id === svc.id && (!filtered || filter.has(e.id)))
      .map((e) => ({ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url: e.url }));
    // Keystone keeps endpoint-less services in the full catalog but drops them from a filtered one.
    if (filtered && eps.length === 0) continue;
    const name = svc.name ?? parseJsonObject(svc.extra).name;
    entries.push({ id: svc.id, type: svc.type, name: typeof name === 'string' ? name : '', endpoints: eps });
  }
  return { entries, filtered };
}

/**
 * Keystone's v3 token catalog: enabled services with their enabled endpoints, limited to the
 * project's OS-EP-FILTER associations (direct or by endpoint group) when it has any. URL
 * placeholders `$(project_id)s`/`%(project_id)s` (and tenant_id, user_id) are substituted; an
 * endpoint whose URL cannot be formatted (e.g. project placeholder without project scope) is left out.
 * Cached until the next write (`id.changed()`).
 */
export async function buildCatalog(id: Identity, projectId?: string, userId?: string): Promise<CatalogEntry[]> {
  const raw = await memo(id, `catalog:${projectId ?? ''}`, () => rawCatalog(id, projectId));
  const subs = { ...(projectId ? { project_id: projectId, tenant_id: projectId } : {}), ...(userId ? { user_id: userId } : {}) };
  const out: CatalogEntry[] = [];
  for (const svc of raw.entries) {
    const endpoints: CatalogEndpoint[] = [];
    for (const ep of svc.endpoints) {
      const url = formatEndpointUrl(ep.url, subs);
      if (url !== null) endpoints.push({ ...ep, url });
    }
    if (raw.filtered && endpoints.length === 0) continue;
    out.push({ ...svc, endpoints });
  }
  return out;
}
