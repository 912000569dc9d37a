import type { Identity } from '../identity.js';
import type { EndpointGroupRow, EndpointRow, ProjectRow, RegionRow, ServiceRow } from '../store/schema.js';
import { DOMAIN_ROOT } from '../store/schema.js';
import { notFound } from '../../platform/http/faults.js';

/** The region `id`, or Keystone's 404 "Could not find region". */
export async function getRegion(id: Identity, regionId: string): Promise<RegionRow> {
  const r = await id.db.selectFrom('region').selectAll().where('id', '=', regionId).executeTakeFirst();
  if (!r) throw notFound(`Could not find region: ${regionId}.`);
  return r;
}

/** The service `id`, or a 404. */
export async function getService(id: Identity, serviceId: string): Promise<ServiceRow> {
  const s = await id.db.selectFrom('catalog_service').selectAll().where('id', '=', serviceId).executeTakeFirst();
  if (!s) throw notFound(`Could not find service: ${serviceId}.`);
  return s;
}

/** The endpoint `id`, or a 404. */
export async function getEndpoint(id: Identity, endpointId: string): Promise<EndpointRow> {
  const e = await id.db.selectFrom('endpoint').selectAll().where('id', '=', endpointId).executeTakeFirst();
  if (!e) throw notFound(`Could not find endpoint: ${endpointId}.`);
  return e;
}

/** The endpoint group `id`, or a 404. */
export async function getEndpointGroup(id: Identity, groupId: string): Promise<EndpointGroupRow> {
  const g = await id.db.selectFrom('endpoint_group').selectAll().where('id', '=', groupId).executeTakeFirst();
  if (!g) throw notFound(`Could not find Endpoint Group: ${groupId}.`);
  return g;
}

/** A project (domains included, as Keystone's get_project), or a 404. */
export async function getProject(id: Identity, projectId: string): Promise<ProjectRow> {
  const p = await id.db.selectFrom('project').selectAll().where('id', '=', projectId).where('id', '<>', DOMAIN_ROOT).executeTakeFirst();
  if (!p) throw notFound(`Could not find project: ${projectId}.`);
  return p;
}

/** A domain, or a 404. */
export async function getDomain(id: Identity, domainId: string): Promise<ProjectRow> {
  const d = await id.db.selectFrom('project').selectAll().where('id', '=', domainId).where('is_domain', '=', 1).executeTakeFirst();
  if (!d) throw notFound(`Could not find domain: ${domainId}.`);
  return d;
}
