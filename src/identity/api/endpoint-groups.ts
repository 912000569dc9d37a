import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import type { EndpointGroupRow, ProjectRow } from '../store/schema.js';
import { badRequest, notFound } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import { entityBody, invalid, name, str } from './validate.js';
import { applyFilters, listBody, selfUrl } from './listing.js';
import { newId } from '../util.js';
import { conflictOn, expecting, limitList, queryOf, requireMatchingId } from '../catalog/common.js';
import { getEndpoint, getEndpointGroup, getProject } from '../catalog/lookups.js';
import { renderEndpoint, renderEndpointGroup, renderProjectRef } from '../catalog/render.js';
import { ENDPOINT_GROUP_FILTER_KEYS, endpointsForProject, endpointsInGroup } from '../catalog/endpoint-filter.js';

/** Keystone's endpoint group schema (Zed): name, filters object, description string|null. */
function validateGroup(body: Record<string, unknown>, update: boolean): void {
  if (update && Object.keys(body).length === 0) throw invalid('endpoint_group', '{} does not have enough properties');
  str(body, 'description', { nullable: true });
  name(body, 'name', !update);
  const f = body.filters;
  if (f === undefined) {
    if (!update) throw invalid('filters', "'filters' is a required property");
  } else if (!f || typeof f !== 'object' || Array.isArray(f)) {
    throw invalid('filters', `${JSON.stringify(f)} is not of type 'object'`);
  }
}

/** Keystone's `_require_valid_filter`: filters may only name service_id, region_id, interface. */
function requireValidFilter(filters: Record<string, unknown>): void {
  const valid: readonly string[] = ENDPOINT_GROUP_FILTER_KEYS;
  for (const k of Object.keys(filters)) if (!valid.includes(k)) throw expecting('service_id or region_id or interface', 'endpoint_group');
}

async function projectRefs(id: Identity, req: FastifyRequest, projectIds: string[]): Promise<Record<string, unknown>[]> {
  if (projectIds.length === 0) return [];
  const rows: ProjectRow[] = await id.db.selectFrom('project').selectAll().where('id', 'in', projectIds).orderBy('id').execute();
  const tags = await id.db.selectFrom('project_tag').selectAll().where('project_id', 'in', projectIds).execute();
  return rows.map((p) => renderProjectRef(req, p, tags.filter((t) => t.project_id === p.id).map((t) => t.name)));
}

const EG = '/v3/OS-EP-FILTER/endpoint_groups';

/** OS-EP-FILTER: endpoint groups and project ↔ endpoint / endpoint group associations. */
export function register(app: FastifyInstance, id: Identity): void {
  type GroupParams = { Params: { endpoint_group_id: string } };
  type GroupProjectParams = { Params: { endpoint_group_id: string; project_id: string } };
  type ProjectEndpointParams = { Params: { project_id: string; endpoint_id: string } };

  app.get(EG, async (req) => {
    await id.authorize(req, 'identity:list_endpoint_groups');
    const rows = await id.db.selectFrom('endpoint_group').selectAll().orderBy('id').execute();
    const { items, truncated } = limitList(id, applyFilters(rows.map((g) => renderEndpointGroup(req, g)), queryOf(req), ['name']));
    return listBody(req, 'endpoint_groups', items, truncated);
  });

  app.get<GroupParams>(`${EG}/:endpoint_group_id`, async (req) => {
    await id.authorize(req, 'identity:get_endpoint_group');
    return { endpoint_group: renderEndpointGroup(req, await getEndpointGroup(id, req.params.endpoint_group_id)) };
  });

  app.post(EG, async (req, reply) => {
    await id.authorize(req, 'identity:create_endpoint_group');
    const body = entityBody(req.body, 'endpoint_group');
    validateGroup(body, false);
    const filters = body.filters as Record<string, unknown>;
    if (Object.keys(filters).length === 0) throw badRequest('filters field is required and cannot be empty');
    requireValidFilter(filters);
    const row: EndpointGroupRow = {
      id: newId(), name: body.name as string, description: (body.description as string | null | undefined) ?? null, filters: JSON.stringify(filters),
    };
    await id.db.insertInto('endpoint_group').values(row).execute();
    id.changed();
    reply.status(201);
    return { endpoint_group: renderEndpointGroup(req, row) };
  });

  app.patch<GroupParams>(`${EG}/:endpoint_group_id`, async (req) => {
    await id.authorize(req, 'identity:update_endpoint_group');
    const body = entityBody(req.body, 'endpoint_group');
    validateGroup(body, true);
    if (body.filters !== undefined) requireValidFilter(body.filters as Record<string, unknown>);
    requireMatchingId(body, req.params.endpoint_group_id);
    const cur = await getEndpointGroup(id, req.params.endpoint_group_id);
    const next: EndpointGroupRow = {
      ...cur,
      name: (body.name as string | undefined) ?? cur.name,
      description: body.description === undefined ? cur.description : (body.description as string | null),
      filters: body.filters === undefined ? cur.filters : JSON.stringify(body.filters),
    };
    await id.db.updateTable('endpoint_group').set(next).where('id', '=', cur.id).execute();
    id.changed();
    return { endpoint_group: renderEndpointGroup(req, next) };
  });

  app.delete<GroupParams>(`${EG}/:endpoint_group_id`, async (req, reply) => {
    await id.authorize(req, 'identity:delete_endpoint_group');
    const g = await getEndpointGroup(id, req.params.endpoint_group_id);
    await id.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('project_endpoint_group').where('endpoint_group_id', '=', g.id).execute();
      await trx.deleteFrom('endpoint_group').where('id', '=', g.id).execute();
    });
    id.changed();
    reply.status(204).send();
  });

  app.get<GroupParams>(`${EG}/:endpoint_group_id/projects`, async (req) => {
    await id.authorize(req, 'identity:list_projects_associated_with_endpoint_group');
    const refs = await id.db.selectFrom('project_endpoint_group').select('project_id')
      .where('endpoint_group_id', '=', req.params.endpoint_group_id).execute();
    return listBody(req, 'projects', await projectRefs(id, req, refs.map((r) => r.project_id)));
  });

  app.get<GroupParams>(`${EG}/:endpoint_group_id/endpoints`, async (req) => {
    await id.authorize(req, 'identity:list_endpoints_associated_with_endpoint_group');
    await getEndpointGroup(id, req.params.endpoint_group_id);
    const eps = await endpointsInGroup(id, req.params.endpoint_group_id);
    return listBody(req, 'endpoints', eps.map((e) => renderEndpoint(req, e)));
  });

  app.get<GroupProjectParams>(`${EG}/:endpoint_group_id/projects/:project_id`, async (req) => {
    await id.authorize(req, 'identity:get_endpoint_group_in_project');
    const { endpoint_group_id: gid, project_id: pid } = req.params;
    await getProject(id, pid);
    await getEndpointGroup(id, gid);
    const ref = await id.db.selectFrom('project_endpoint_group').selectAll().where('endpoint_group_id', '=', gid).where('project_id', '=', pid).executeTakeFirst();
    if (!ref) throw notFound('Endpoint Group Project Association not found');
    return { project_endpoint_group: { endpoint_group_id: gid, project_id: pid, links: { self: selfUrl(req) } } };
  });

  app.put<GroupProjectParams>(`${EG}/:endpoint_group_id/projects/:project_id`, async (req, reply) => {
    await id.authorize(req, 'identity:add_endpoint_group_to_project');
    const { endpoint_group_id: gid, project_id: pid } = req.params;
    await getProject(id, pid);
    await getEndpointGroup(id, gid);
    const dup = () => conflictOn('project_endpoint_group', 'Duplicate entry');
    if (await id.db.selectFrom('project_endpoint_group').select('project_id').where('endpoint_group_id', '=', gid).where('project_id', '=', pid).executeTakeFirst()) throw dup();
    try {
      await id.db.insertInto('project_endpoint_group').values({ endpoint_group_id: gid, project_id: pid }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw dup();
      throw err;
    }
    id.changed();
    reply.status(204).send();
  });

  app.delete<GroupProjectParams>(`${EG}/:endpoint_group_id/projects/:project_id`, async (req, reply) => {
    await id.authorize(req, 'identity:remove_endpoint_group_from_project');
    const { endpoint_group_id: gid, project_id: pid } = req.params;
    await getProject(id, pid);
    await getEndpointGroup(id, gid);
    const r = await id.db.deleteFrom('project_endpoint_group').where('endpoint_group_id', '=', gid).where('project_id', '=', pid).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound('Endpoint Group Project Association not found');
    id.changed();
    reply.status(204).send();
  });

  app.get<{ Params: { project_id: string } }>('/v3/OS-EP-FILTER/projects/:project_id/endpoint_groups', async (req) => {
    await id.authorize(req, 'identity:list_endpoint_groups_for_project');
    await getProject(id, req.params.project_id);
    const rows = await id.db.selectFrom('project_endpoint_group').innerJoin('endpoint_group', 'endpoint_group.id', 'project_endpoint_group.endpoint_group_id')
      .selectAll('endpoint_group').where('project_endpoint_group.project_id', '=', req.params.project_id).orderBy('endpoint_group.id').execute();
    return listBody(req, 'endpoint_groups', rows.map((g) => renderEndpointGroup(req, g)));
  });

  app.get<{ Params: { project_id: string } }>('/v3/OS-EP-FILTER/projects/:project_id/endpoints', async (req) => {
    await id.authorize(req, 'identity:list_endpoints_for_project');
    await getProject(id, req.params.project_id);
    const eps = await endpointsForProject(id, req.params.project_id);
    return listBody(req, 'endpoints', [...eps.values()].map((e) => renderEndpoint(req, e)));
  });

  const association = (pid: string, eid: string) => id.db.selectFrom('project_endpoint').selectAll().where('project_id', '=', pid).where('endpoint_id', '=', eid).executeTakeFirst();
  const noAssociation = (pid: string, eid: string) => notFound(`Endpoint ${eid} not found in project ${pid}`);

  app.get<ProjectEndpointParams>('/v3/OS-EP-FILTER/projects/:project_id/endpoints/:endpoint_id', async (req, reply) => {
    await id.authorize(req, 'identity:check_endpoint_in_project');
    const { project_id: pid, endpoint_id: eid } = req.params;
    await getEndpoint(id, eid);
    await getProject(id, pid);
    if (!(await association(pid, eid))) throw noAssociation(pid, eid);
    reply.status(204).send();
  });

  app.put<ProjectEndpointParams>('/v3/OS-EP-FILTER/projects/:project_id/endpoints/:endpoint_id', async (req, reply) => {
    await id.authorize(req, 'identity:add_endpoint_to_project');
    const { project_id: pid, endpoint_id: eid } = req.params;
    await getEndpoint(id, eid);
    await getProject(id, pid);
    if (!(await association(pid, eid))) {
      try {
        await id.db.insertInto('project_endpoint').values({ endpoint_id: eid, project_id: pid }).execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      id.changed();
    }
    reply.status(204).send();
  });

  app.delete<ProjectEndpointParams>('/v3/OS-EP-FILTER/projects/:project_id/endpoints/:endpoint_id', async (req, reply) => {
    await id.authorize(req, 'identity:remove_endpoint_from_project');
    const { project_id: pid, endpoint_id: eid } = req.params;
    const r = await id.db.deleteFrom('project_endpoint').where('project_id', '=', pid).where('endpoint_id', '=', eid).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw noAssociation(pid, eid);
    id.changed();
    reply.status(204).send();
  });

  app.get<{ Params: { endpoint_id: string } }>('/v3/OS-EP-FILTER/endpoints/:endpoint_id/projects', async (req) => {
    await id.authorize(req, 'identity:list_projects_for_endpoint');
    await getEndpoint(id, req.params.endpoint_id);
    const refs = await id.db.selectFrom('project_endpoint').select('project_id').where('endpoint_id', '=', req.params.endpoint_id).execute();
    return listBody(req, 'projects', await projectRefs(id, req, refs.map((r) => r.project_id)));
  });
}

