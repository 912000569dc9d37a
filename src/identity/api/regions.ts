import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import type { RegionRow } from '../store/schema.js';
import { badRequest, notFound } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import { entityBody, extraOf, invalid, str } from './validate.js';
import { applyFilters, listBody } from './listing.js';
import { newId, parseJsonObject } from '../util.js';
import { conflictOn, limitList, normalizeKeys, queryOf, requireMatchingId } from '../catalog/common.js';
import { getRegion } from '../catalog/lookups.js';
import { renderRegion } from '../catalog/render.js';
import { assertNoCycle, deleteRegionTree } from '../catalog/region-tree.js';

const KNOWN = ['id', 'description', 'parent_region_id'] as const;

/** Keystone's region schema (Zed): description string|null, id string, parent_region_id string|null. */
function validateRegion(body: Record<string, unknown>, update: boolean): void {
  if (update && Object.keys(body).length === 0) throw invalid('region', '{} does not have enough properties');
  str(body, 'description', { nullable: true });
  str(body, 'id');
  str(body, 'parent_region_id', { nullable: true });
}

async function createRegion(id: Identity, req: FastifyRequest, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const regionId = body.id as string;
  if (await id.db.selectFrom('region').select('id').where('id', '=', regionId).executeTakeFirst()) {
    throw conflictOn('region', `Duplicate ID, ${regionId}`);
  }
  const parent = (body.parent_region_id as string | null | undefined) ?? null;
  if (parent !== null && !(await id.db.selectFrom('region').select('id').where('id', '=', parent).executeTakeFirst())) {
    throw notFound(`Could not find region: ${parent}.`);
  }
  const row: RegionRow = {
    id: regionId, description: (body.description as string | null | undefined) ?? '', parent_region_id: parent,
    extra: JSON.stringify(extraOf(body, KNOWN)),
  };
  try {
    await id.db.insertInto('region').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflictOn('region', `Duplicate ID, ${regionId}`);
    throw err;
  }
  id.changed();
  id.notify('identity.region.created', { resource_info: regionId });
  return { region: renderRegion(req, row) };
}

/** /v3/regions: Keystone's region CRUD (ids chosen by the caller or generated). */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/regions', async (req) => {
    await id.authorize(req, 'identity:list_regions');
    const q = queryOf(req);
    if (q.parent_region_id !== undefined && typeof q.parent_region_id !== 'string') throw badRequest('Invalid parent_region_id');
    const rows = await id.db.selectFrom('region').selectAll().orderBy('id').execute();
    const { items, truncated } = limitList(id, applyFilters(rows.map((r) => renderRegion(req, r)), q, ['parent_region_id']));
    return listBody(req, 'regions', items, truncated);
  });

  app.get<{ Params: { region_id: string } }>('/v3/regions/:region_id', async (req) => {
    await id.authorize(req, 'identity:get_region');
    return { region: renderRegion(req, await getRegion(id, req.params.region_id)) };
  });

  app.post('/v3/regions', async (req, reply) => {
    await id.authorize(req, 'identity:create_region');
    const body = normalizeKeys(entityBody(req.body, 'region'));
    validateRegion(body, false);
    if (!body.id) body.id = newId();
    reply.status(201);
    return createRegion(id, req, body);
  });

  app.put<{ Params: { region_id: string } }>('/v3/regions/:region_id', async (req, reply) => {
    await id.authorize(req, 'identity:create_region');
    const body = normalizeKeys(entityBody(req.body, 'region'));
    validateRegion(body, false);
    if (!('id' in body)) body.id = req.params.region_id;
    else if (body.id !== req.params.region_id) {
      throw badRequest(`Conflicting region IDs specified: "${req.params.region_id}" != "${String(body.id)}"`);
    }
    reply.status(201);
    return createRegion(id, req, body);
  });

  app.patch<{ Params: { region_id: string } }>('/v3/regions/:region_id', async (req) => {
    await id.authorize(req, 'identity:update_region');
    const body = entityBody(req.body, 'region');
    validateRegion(body, true);
    requireMatchingId(body, req.params.region_id);
    const parentGiven = body.parent_region_id as string | null | undefined;
    if (parentGiven) await getRegion(id, parentGiven);
    const cur = await getRegion(id, req.params.region_id);
    const parent = parentGiven === undefined ? cur.parent_region_id : parentGiven;
    await assertNoCycle(id, cur.id, parent);
    const description = body.description === undefined ? cur.description : ((body.description as string | null) ?? '');
    const extra = JSON.stringify({ ...parseJsonObject(cur.extra), ...extraOf(normalizeKeys(body), KNOWN) });
    await id.db.updateTable('region').set({ description, parent_region_id: parent, extra }).where('id', '=', cur.id).execute();
    id.changed();
    id.notify('identity.region.updated', { resource_info: cur.id });
    return { region: renderRegion(req, { ...cur, description, parent_region_id: parent, extra }) };
  });

  app.delete<{ Params: { region_id: string } }>('/v3/regions/:region_id', async (req, reply) => {
    await id.authorize(req, 'identity:delete_region');
    await deleteRegionTree(id, req.params.region_id);
    id.changed();
    id.notify('identity.region.deleted', { resource_info: req.params.region_id });
    reply.status(204).send();
  });
}
