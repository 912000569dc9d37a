import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import type { EndpointRow } from '../store/schema.js';
import { Fault } from '../../platform/http/faults.js';
import { boolField, entityBody, extraOf, invalid, str } from './validate.js';
import { applyFilters, listBody } from './listing.js';
import { int, newId, parseJsonObject } from '../util.js';
import { expecting, limitList, normalizeKeys, queryOf, requireMatchingId } from '../catalog/common.js';
import { getEndpoint } from '../catalog/lookups.js';
import { renderEndpoint } from '../catalog/render.js';
import { isValidEndpointUrlTemplate } from '../catalog/url-template.js';

const KNOWN = ['interface', 'service_id', 'url', 'region_id', 'region', 'enabled', 'legacy_endpoint_id'] as const;
const INTERFACES = ['admin', 'internal', 'public'];
/** Keystone's URL rule (rfc1738 scheme, at most 225 characters). */
const URL_PATTERN = /^[a-zA-Z0-9+.-]+:.+/s;

/** Keystone's endpoint schema (Zed). */
function validateEndpoint(body: Record<string, unknown>, update: boolean): void {
  if (update && Object.keys(body).length === 0) throw invalid('endpoint', '{} does not have enough properties');
  boolField(body, 'enabled');
  const iface = str(body, 'interface', { required: !update });
  if (iface !== undefined && iface !== null && !INTERFACES.includes(iface)) {
    throw invalid('interface', `'${iface}' is not one of ['admin', 'internal', 'public']`);
  }
  str(body, 'region_id');
  str(body, 'region');
  str(body, 'service_id', { required: !update });
  const url = str(body, 'url', { required: !update, max: 225 });
  if (typeof url === 'string' && !URL_PATTERN.test(url)) throw invalid('url', `'${url}' does not match '^[a-zA-Z0-9+.-]+:.+'`);
}

/**
 * Keystone's legacy `region`: used as region_id when region_id is absent, and the region is
 * created on the fly when it does not exist.
 */
async function resolveLegacyRegion(id: Identity, body: Record<string, unknown>): Promise<void> {
  if ((body.region_id === undefined || body.region_id === null) && typeof body.region === 'string') {
    body.region_id = body.region;
    const exists = await id.db.selectFrom('region').select('id').where('id', '=', body.region).executeTakeFirst();
    if (!exists) {
      await id.db.insertInto('region').values({ id: body.region, description: '', parent_region_id: null, extra: '{}' }).execute();
      id.notify('identity.region.created', { resource_info: body.region });
    }
  }
  delete body.region;
}

/** Keystone's checks that an endpoint's region and service exist (400, not 404). */
async function assertReferences(id: Identity, regionId: unknown, serviceId: unknown): Promise<void> {
  if (typeof regionId === 'string' && !(await id.db.selectFrom('region').select('id').where('id', '=', regionId).executeTakeFirst())) {
    throw expecting('endpoint region_id', 'region table');
  }
  if (typeof serviceId === 'string' && !(await id.db.selectFrom('catalog_service').select('id').where('id', '=', serviceId).executeTakeFirst())) {
    throw expecting('endpoint service_id', 'service table');
  }
}

/** Removes an endpoint with its OS-EP-FILTER project associations. */
export async function deleteEndpoint(id: Identity, endpointId: string): Promise<void> {
  await id.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('project_endpoint').where('endpoint_id', '=', endpointId).execute();
    await trx.deleteFrom('endpoint').where('id', '=', endpointId).execute();
  });
}

const render = (req: FastifyRequest, e: EndpointRow) => renderEndpoint(req, e);

/** /v3/endpoints: catalog endpoints. */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/endpoints', async (req) => {
    await id.authorize(req, 'identity:list_endpoints');
    const q = queryOf(req);
    const rows = await id.db.selectFrom('endpoint').selectAll().orderBy('id').execute();
    const { items, truncated } = limitList(id, applyFilters(rows.map((e) => render(req, e)), q, ['interface', 'service_id', 'region_id']));
    return listBody(req, 'endpoints', items, truncated);
  });

  app.get<{ Params: { endpoint_id: string } }>('/v3/endpoints/:endpoint_id', async (req) => {
    await id.authorize(req, 'identity:get_endpoint');
    return { endpoint: render(req, await getEndpoint(id, req.params.endpoint_id)) };
  });

  app.post('/v3/endpoints', async (req, reply) => {
    await id.authorize(req, 'identity:create_endpoint');
    const raw = entityBody(req.body, 'endpoint');
    validateEndpoint(raw, false);
    if (!isValidEndpointUrlTemplate(raw.url as string)) throw new Fault(400, `Cannot create an endpoint with an invalid URL: ${String(raw.url)}.`, {}, 'BadRequest');
    const body = normalizeKeys(raw);
    await resolveLegacyRegion(id, body);
    await assertReferences(id, body.region_id, body.service_id);
    const row: EndpointRow = {
      id: newId(), interface: body.interface as string, service_id: body.service_id as string, url: body.url as string,
      region_id: (body.region_id as string | undefined) ?? null, enabled: int(body.enabled !== false),
      extra: JSON.stringify(extraOf(body, KNOWN)),
    };
    await id.db.insertInto('endpoint').values(row).execute();
    id.changed();
    id.notify('identity.endpoint.created', { resource_info: row.id });
    reply.status(201);
    return { endpoint: render(req, row) };
  });

  app.patch<{ Params: { endpoint_id: string } }>('/v3/endpoints/:endpoint_id', async (req) => {
    await id.authorize(req, 'identity:update_endpoint');
    const body = entityBody(req.body, 'endpoint');
    validateEndpoint(body, true);
    requireMatchingId(body, req.params.endpoint_id);
    await resolveLegacyRegion(id, body);
    await assertReferences(id, body.region_id, body.service_id);
    const cur = await getEndpoint(id, req.params.endpoint_id);
    const next: EndpointRow = {
      ...cur,
      interface: (body.interface as string | undefined) ?? cur.interface,
      service_id: (body.service_id as string | undefined) ?? cur.service_id,
      url: (body.url as string | undefined) ?? cur.url,
      region_id: body.region_id === undefined ? cur.region_id : (body.region_id as string | null),
      enabled: body.enabled === undefined ? cur.enabled : int(body.enabled as boolean),
      extra: JSON.stringify({ ...parseJsonObject(cur.extra), ...extraOf(normalizeKeys(body), KNOWN) }),
    };
    await id.db.updateTable('endpoint').set(next).where('id', '=', cur.id).execute();
    id.changed();
    id.notify('identity.endpoint.updated', { resource_info: cur.id });
    return { endpoint: render(req, next) };
  });

  app.delete<{ Params: { endpoint_id: string } }>('/v3/endpoints/:endpoint_id', async (req, reply) => {
    await id.authorize(req, 'identity:delete_endpoint');
    await getEndpoint(id, req.params.endpoint_id);
    await deleteEndpoint(id, req.params.endpoint_id);
    id.changed();
    id.notify('identity.endpoint.deleted', { resource_info: req.params.endpoint_id });
    reply.status(204).send();
  });
}

