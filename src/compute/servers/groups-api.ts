/**
 * `/os-server-groups`: create, list, show and delete server groups, per microversion — `policies`
 * (a one-item list) before 2.64, `policy` and `rules` from 2.64, the soft policies from 2.15,
 * `project_id`/`user_id` from 2.13, strict query parameters from 2.75. Members are the group's
 * servers that are not deleted.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComputeContext } from '../context.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { atLeast, params, type ComputeRoutes } from '../api/http.js';
import { commonQueryParam, multiParams, name, nonNegativeInteger, positiveInteger, queryLists, validateBody, validateQuery, type Schema } from '../api/schema.js';
import { checkDeltas, QuotaExceeded } from '../quotas.js';
import type { ServerGroupPolicy } from '../scheduler/types.js';
import {
  createGroup, deleteGroup, getGroup, groupsDb, installGroupHooks, listGroups, membersOf, type GroupRules, type ServerGroup,
} from './groups.js';
import { InstanceGone, updateInstance } from './store.js';
import { serversDb } from './api.js';

function createSchema(req: FastifyRequest): Schema {
  const group: Record<string, Schema> = { name };
  let required = ['name', 'policies'];
  if (atLeast(req, '2.64')) {
    group.policy = { type: 'string', enum: ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'] };
    group.rules = { type: 'object', properties: { max_server_per_host: positiveInteger }, additionalProperties: false };
    required = ['name', 'policy'];
  } else {
    const policies = atLeast(req, '2.15') ? ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'] : ['anti-affinity', 'affinity'];
    group.policies = { type: 'array', items: { type: 'string', enum: policies }, minItems: 1, maxItems: 1 };
  }
  return {
    type: 'object',
    properties: { server_group: { type: 'object', properties: group, required, additionalProperties: false } },
    required: ['server_group'],
    additionalProperties: false,
  };
}

const indexQuery = (req: FastifyRequest): Schema => ({
  type: 'object',
  properties: { all_projects: commonQueryParam, limit: multiParams(nonNegativeInteger), offset: multiParams(nonNegativeInteger) },
  additionalProperties: !atLeast(req, '2.75'),
});

/** A group as the API shows it at the request's microversion. */
function groupView(req: FastifyRequest, g: ServerGroup, members: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.uuid, name: g.name };
  if (atLeast(req, '2.64')) {
    out.policy = g.policy;
    out.rules = { ...g.rules };
  } else {
    out.policies = [g.policy];
    out.metadata = {};
  }
  out.members = [...members];
  if (atLeast(req, '2.13')) {
    out.project_id = g.project_id;
    out.user_id = g.user_id;
  }
  return out;
}

const last = (v: string[] | undefined): string | undefined => v?.[v.length - 1];

export function registerServerGroups(routes: ComputeRoutes, ctx: ComputeContext): void {
  const db = groupsDb(ctx.db);
  installGroupHooks(ctx);

  /** The group as the caller may see it (other projects' groups do not exist for non-admins). */
  const visibleGroup = async (req: FastifyRequest, rule: string): Promise<ServerGroup> => {
    const caller = routes.caller(req);
    const id = params<{ id: string }>(req).id;
    const g = await getGroup(db, id);
    if (!g || (!caller.isAdmin && g.project_id !== caller.projectId)) throw notFound(`Instance group ${id} could not be found.`);
    ctx.authorize(caller, rule, { project_id: g.project_id });
    return g;
  };

  routes.get('/os-server-groups', async (req) => {
    const q = queryLists(req.query);
    validateQuery(indexQuery(req), q);
    const caller = routes.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-server-groups:index', { project_id: caller.projectId });
    let all = false;
    // As in Nova, a non-admin asking for all projects simply gets its own.
    if ('all_projects' in q && caller.isAdmin) {
      ctx.authorize(caller, 'os_compute_api:os-server-groups:index:all_projects', { project_id: caller.projectId });
      all = true;
    }
    const groups = await listGroups(db, all ? undefined : caller.projectId);
    const offset = Number(last(q.offset) ?? 0);
    const limit = Math.min(ctx.maxLimit, Number(last(q.limit) ?? 0) || ctx.maxLimit);
    const page = groups.slice(offset, offset + limit);
    const members = await membersOf(db, page.map((g) => g.id));
    return { server_groups: page.map((g) => groupView(req, g, members.get(g.id) ?? [])) };
  });

  routes.get('/os-server-groups/:id', async (req) => {
    const g = await visibleGroup(req, 'os_compute_api:os-server-groups:show');
    return { server_group: groupView(req, g, (await membersOf(db, [g.id])).get(g.id) ?? []) };
  });

  routes.post('/os-server-groups', async (req) => {
    validateBody(createSchema(req), req.body);
    const caller = routes.caller(req);
    ctx.authorize(caller, 'os_compute_api:os-server-groups:create', { project_id: caller.projectId });
    const body = (req.body as { server_group: { name: string; policies?: string[]; policy?: string; rules?: Record<string, unknown> } }).server_group;
    const overQuota = async (delta: number): Promise<boolean> => {
      try {
        await checkDeltas(ctx, caller.projectId, caller.userId, { server_groups: delta });
        return false;
      } catch (err) {
        if (err instanceof QuotaExceeded) return true;
        throw err;
      }
    };
    if (await overQuota(1)) throw forbidden('Quota exceeded, too many server groups.');
    let policy: ServerGroupPolicy;
    let rules: GroupRules = {};
    if (atLeast(req, '2.64')) {
      policy = body.policy as ServerGroupPolicy;
      if (body.rules && Object.keys(body.rules).length) {
        if (policy !== 'anti-affinity') throw badRequest('Only anti-affinity policy supports rules.');
        rules = { max_server_per_host: Number(body.rules.max_server_per_host) };
      }
    } else {
      policy = body.policies![0] as ServerGroupPolicy;
    }
    const g = await createGroup(db, { name: body.name, projectId: caller.projectId, userId: caller.userId, policy, rules });
    // Nova's recheck: a concurrent create may have taken the last slot.
    if (await overQuota(0)) {
      await deleteGroup(db, g);
      throw forbidden('Quota exceeded, too many server groups.');
    }
    ctx.notify('servergroup.create', { server_group_id: g.uuid, name: g.name, policy: g.policy, project_id: g.project_id, user_id: g.user_id });
    return { server_group: groupView(req, g, []) };
  });

  routes.delete('/os-server-groups/:id', async (req, reply: FastifyReply) => {
    const g = await visibleGroup(req, 'os_compute_api:os-server-groups:delete');
    const members = (await membersOf(db, [g.id])).get(g.id) ?? [];
    if (!await deleteGroup(db, g)) throw notFound(`Instance group ${g.uuid} could not be found.`);
    // Its servers are in no group any more (2.71's server_groups).
    for (const uuid of members) {
      await updateInstance(serversDb(ctx), uuid, { body: { server_group: null } }).catch((err: unknown) => {
        if (!(err instanceof InstanceGone)) throw err;
      });
    }
    ctx.notify('servergroup.delete', { server_group_id: g.uuid, project_id: g.project_id });
    reply.status(204);
    return reply.send();
  });
}
