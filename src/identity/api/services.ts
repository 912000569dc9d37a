import type { FastifyInstance } from 'fastify';
import type { Identity } from '../identity.js';
import type { ServiceRow } from '../store/schema.js';
import { boolField, entityBody, extraOf, invalid, name, str } from './validate.js';
import { applyFilters, listBody } from './listing.js';
import { int, newId, parseJsonObject } from '../util.js';
import { limitList, normalizeKeys, queryOf, requireMatchingId } from '../catalog/common.js';
import { getService } from '../catalog/lookups.js';
import { renderService } from '../catalog/render.js';

const KNOWN = ['type', 'name', 'description', 'enabled'] as const;

/** Keystone's service schema: type 1..255 (required on create), name 1..255 non-blank, enabled boolean. */
function validateService(body: Record<string, unknown>, update: boolean): void {
  if (update && Object.keys(body).length === 0) throw invalid('service', '{} does not have enough properties');
  str(body, 'type', { required: !update, min: 1, max: 255 });
  name(body, 'name', false);
  boolField(body, 'enabled');
}

/** The description column holds strings; other JSON values Keystone would keep verbatim are stringified. */
const descriptionOf = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

/** /v3/services: catalog services. */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/services', async (req) => {
    await id.authorize(req, 'identity:list_services');
    const rows = await id.db.selectFrom('catalog_service').selectAll().orderBy('id').execute();
    const { items, truncated } = limitList(id, applyFilters(rows.map((s) => renderService(req, s)), queryOf(req), ['type', 'name']));
    return listBody(req, 'services', items, truncated);
  });

  app.get<{ Params: { service_id: string } }>('/v3/services/:service_id', async (req) => {
    await id.authorize(req, 'identity:get_service');
    return { service: renderService(req, await getService(id, req.params.service_id)) };
  });

  app.post('/v3/services', async (req, reply) => {
    await id.authorize(req, 'identity:create_service');
    const body = normalizeKeys(entityBody(req.body, 'service'));
    validateService(body, false);
    const row: ServiceRow = {
      id: newId(), type: body.type as string, name: (body.name as string | undefined) ?? '',
      description: descriptionOf(body.description), enabled: int(body.enabled !== false), extra: JSON.stringify(extraOf(body, KNOWN)),
    };
    await id.db.insertInto('catalog_service').values(row).execute();
    id.changed();
    id.notify('identity.service.created', { resource_info: row.id });
    reply.status(201);
    return { service: renderService(req, row) };
  });

  app.patch<{ Params: { service_id: string } }>('/v3/services/:service_id', async (req) => {
    await id.authorize(req, 'identity:update_service');
    const body = entityBody(req.body, 'service');
    validateService(body, true);
    requireMatchingId(body, req.params.service_id);
    const cur = await getService(id, req.params.service_id);
    const next: ServiceRow = {
      ...cur,
      type: (body.type as string | undefined) ?? cur.type,
      name: body.name === undefined ? cur.name : (body.name as string),
      description: body.description === undefined ? cur.description : descriptionOf(body.description),
      enabled: body.enabled === undefined ? cur.enabled : int(body.enabled as boolean),
      extra: JSON.stringify({ ...parseJsonObject(cur.extra), ...extraOf(normalizeKeys(body), KNOWN) }),
    };
    await id.db.updateTable('catalog_service').set(next).where('id', '=', cur.id).execute();
    id.changed();
    id.notify('identity.service.updated', { resource_info: cur.id });
    return { service: renderService(req, next) };
  });

  app.delete<{ Params: { service_id: string } }>('/v3/services/:service_id', async (req, reply) => {
    await id.authorize(req, 'identity:delete_service');
    const svc = await getService(id, req.params.service_id);
    // Keystone drops the service's endpoints with it, and their project associations.
    await id.db.transaction().execute(async (trx) => {
      const eps = (await trx.selectFrom('endpoint').select('id').where('service_id', '=', svc.id).execute()).map((e) => e.id);
      if (eps.length) {
        await trx.deleteFrom('project_endpoint').where('endpoint_id', 'in', eps).execute();
        await trx.deleteFrom('endpoint').where('id', 'in', eps).execute();
      }
      await trx.deleteFrom('catalog_service').where('id', '=', svc.id).execute();
    });
    id.changed();
    id.notify('identity.service.deleted', { resource_info: svc.id });
    reply.status(204).send();
  });
}
