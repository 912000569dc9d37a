import type { FastifyRequest } from 'fastify';
import type { EndpointGroupRow, EndpointRow, ProjectRow, RegionRow, ServiceRow } from '../store/schema.js';
import { bool, parseJsonObject } from '../util.js';
import { linkTo } from './common.js';

/** Extra attributes Nephos keeps for itself (bootstrap bookkeeping), never shown. */
const HIDDEN_EXTRA = ['nephos_managed'];

/** Extra attributes as shown in responses. */
export function visibleExtra(extra: string): Record<string, unknown> {
  const o = parseJsonObject(extra);
  for (const k of HIDDEN_EXTRA) delete o[k];
  return o;
}

/** A region as Keystone renders it. */
export function renderRegion(req: FastifyRequest, r: RegionRow): Record<string, unknown> {
  return { ...visibleExtra(r.extra), id: r.id, description: r.description, parent_region_id: r.parent_region_id, links: linkTo(req, `/v3/regions/${encodeURIComponent(r.id)}`) };
}

/** A service as Keystone renders it (description only when set, as Keystone keeps it in extra). */
export function renderService(req: FastifyRequest, s: ServiceRow): Record<string, unknown> {
  const out: Record<string, unknown> = { ...visibleExtra(s.extra), id: s.id, type: s.type, name: s.name ?? '', enabled: bool(s.enabled) };
  if (s.description !== null) out.description = s.description;
  out.links = linkTo(req, `/v3/services/${s.id}`);
  return out;
}

/** An endpoint as Keystone renders it: `region` mirrors `region_id`. */
export function renderEndpoint(req: FastifyRequest, e: EndpointRow): Record<string, unknown> {
  return {
    ...visibleExtra(e.extra), id: e.id, interface: e.interface, region_id: e.region_id, region: e.region_id,
    service_id: e.service_id, url: e.url, enabled: bool(e.enabled), links: linkTo(req, `/v3/endpoints/${e.id}`),
  };
}

/** An OS-EP-FILTER endpoint group. */
export function renderEndpointGroup(req: FastifyRequest, g: EndpointGroupRow): Record<string, unknown> {
  return { id: g.id, name: g.name, description: g.description, filters: parseJsonObject(g.filters), links: linkTo(req, `/v3/OS-EP-FILTER/endpoint_groups/${g.id}`) };
}

/** A project reference in OS-EP-FILTER listings (Keystone's project entity, without tags). */
export function renderProjectRef(req: FastifyRequest, p: ProjectRow, tags: string[] = []): Record<string, unknown> {
  const isDomain = bool(p.is_domain);
  return {
    ...parseJsonObject(p.extra), id: p.id, name: p.name, domain_id: isDomain ? null : p.domain_id, description: p.description,
    enabled: bool(p.enabled), parent_id: isDomain ? null : p.parent_id, is_domain: isDomain, tags, options: {},
    links: linkTo(req, `/v3/projects/${p.id}`),
  };
}

