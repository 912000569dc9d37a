import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { memo } from '../assignments/effective.js';
import type { TokenContext } from '../context.js';
import { badRequest, notFound } from '../../platform/http/faults.js';
import { DOMAIN_ROOT, type ProjectRow } from '../store/schema.js';
import { applyFilters, listBody } from './listing.js';
import { register as registerTags } from './project-tags.js';
import { extrasOf } from '../resources/entity.js';
import { projectPolicyTarget, renderProjects } from '../resources/render.js';
import { createProject, deleteProject, updateProject } from '../resources/project-ops.js';
import { ancestorsOf, subtreeOf, tagsOf } from '../resources/project-store.js';
import { filterValues, policyTarget } from '../resources/policy-target.js';
import { applyLimit, filterBool, flagTrue, inexact, queryOf } from '../resources/query.js';
import {
  bodyObject, looseObject, checkBool, checkDescription, checkIdString, checkName, checkProjectOptions, checkTags, requireMatchingId, requireSomething,
} from '../resources/schema.js';
import { hasTagFilters, matchesTagFilters } from '../resources/tag-filters.js';
import { projectsForUser } from '../resources/user-projects.js';

const MODELLED = ['name', 'description', 'enabled', 'tags', 'options', 'domain_id', 'parent_id', 'is_domain'];
const PROJECT_NAME_MAX = 64;
const LIST_FILTERS = ['domain_id', 'enabled', 'name', 'parent_id', 'is_domain'];

const notFoundProject = (projectId: string) => notFound(`Could not find project: ${projectId}.`);

/** Validates a project body (create or update) as Keystone's schema does. */
function checkProjectBody(body: Record<string, unknown>, create: boolean) {
  return {
    name: checkName(body, 'name', PROJECT_NAME_MAX, create),
    description: checkDescription(body),
    domainId: checkIdString(body, 'domain_id', true),
    parentId: checkIdString(body, 'parent_id', true),
    enabled: checkBool(body, 'enabled'),
    isDomain: checkBool(body, 'is_domain'),
    tags: body.tags === undefined ? undefined : checkTags(body.tags),
    options: body.options === undefined ? undefined : checkProjectOptions(body.options),
    extra: extrasOf(body, MODELLED),
  };
}

/** Keystone's `parents`/`subtree` expansions of GET /v3/projects/{id}. */
async function expand(id: Identity, req: FastifyRequest, ctx: TokenContext, row: ProjectRow, ref: Record<string, unknown>): Promise<void> {
  const q = queryOf(req.query);
  const parentsList = flagTrue(q, 'parents_as_list');
  const parentsIds = flagTrue(q, 'parents_as_ids');
  const subtreeList = flagTrue(q, 'subtree_as_list');
  const subtreeIds = flagTrue(q, 'subtree_as_ids');
  const limits = flagTrue(q, 'include_limits');
  if (parentsList && parentsIds) throw badRequest('Cannot use parents_as_list and parents_as_ids query params at the same time.');
  if (subtreeList && subtreeIds) throw badRequest('Cannot use subtree_as_list and subtree_as_ids query params at the same time.');
  const visible = parentsList || subtreeList ? new Set((await projectsForUser(id, ctx.userId)).map((p) => p.id)) : new Set<string>();
  const wrap = async (rows: ProjectRow[]) => (await renderProjects(id, req, rows.filter((r) => visible.has(r.id))))
    .map((p) => ({ project: limits ? { ...p, limits: [] } : p }));
  if (parentsList) ref.parents = await wrap(await ancestorsOf(id.db, row));
  else if (parentsIds) ref.parents = parentsAsIds(await ancestorsOf(id.db, row));
  if (subtreeList) ref.subtree = await wrap(await subtreeOf(id.db, row.id));
  else if (subtreeIds) ref.subtree = subtreeAsIds(row.id, await subtreeOf(id.db, row.id));
}

/** {parent: {grandparent: {... {domain: null}}}}, or null for a root. */
function parentsAsIds(ancestors: ProjectRow[]): Record<string, unknown> | null {
  let out: Record<string, unknown> | null = null;
  for (const a of [...ancestors].reverse()) out = { [a.id]: out };
  return out;
}

/** {child: {grandchild: null, ...}, ...}, or null for a leaf. */
function subtreeAsIds(rootId: string, subtree: ProjectRow[]): Record<string, unknown> | null {
  const children = new Map<string, string[]>();
  for (const p of subtree) if (p.parent_id) children.set(p.parent_id, [...(children.get(p.parent_id) ?? []), p.id]);
  const build = (pid: string, depth: number): Record<string, unknown> | null => {
    const kids = children.get(pid);
    if (!kids?.length || depth > 64) return null;
    return Object.fromEntries(kids.map((k) => [k, build(k, depth + 1)]));
  };
  return build(rootId, 0);
}

/** /v3/projects: CRUD, hierarchy expansions and (via project-tags) tags. */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/projects', async (req) => {
    const q = queryOf(req.query);
    const ctx = await id.caller(req);
    const target = ctx.domain ? { domain_id: ctx.domain.id } : undefined;
    id.enforce(ctx, 'identity:list_projects', policyTarget({ target, filters: filterValues(q, LIST_FILTERS) }));
    let query = id.db.selectFrom('project').selectAll().where('id', '!=', DOMAIN_ROOT);
    if ('is_domain' in q) query = query.where('is_domain', '=', filterBool(q.is_domain) ? 1 : 0);
    else query = query.where('is_domain', '=', 0);
    if ('domain_id' in q) query = query.where('domain_id', '=', q.domain_id);
    if ('name' in q) query = query.where('name', '=', q.name);
    if ('parent_id' in q) query = query.where('parent_id', '=', q.parent_id);
    if ('enabled' in q) query = query.where('enabled', '=', filterBool(q.enabled) ? 1 : 0);
    // Lists are read far more often than projects change: cached until the next identity write.
    const key = `projects:list:${JSON.stringify([q.is_domain, q.domain_id, q.name, q.parent_id, q.enabled])}`;
    let rows = await memo(id, key, () => query.orderBy('name').execute());
    if (ctx.domain) rows = rows.filter((r) => r.domain_id === ctx.domain!.id);
    if (hasTagFilters(q)) {
      const tags = await tagsOf(id.db, rows.map((r) => r.id));
      rows = rows.filter((r) => matchesTagFilters(tags.get(r.id) ?? [], q));
    }
    const items = applyFilters(await renderProjects(id, req, rows), inexact(q), ['name', 'domain_id', 'parent_id']);
    const limited = applyLimit(id, items);
    return listBody(req, 'projects', limited.items, limited.truncated);
  });

  app.get<{ Params: { project_id: string } }>('/v3/projects/:project_id', async (req) => {
    const { row, target } = await projectPolicyTarget(id, req.params.project_id);
    const ctx = await id.authorize(req, 'identity:get_project', target);
    if (!row) throw notFoundProject(req.params.project_id);
    const [ref] = await renderProjects(id, req, [row]);
    await expand(id, req, ctx, row, ref);
    return { project: ref };
  });

  app.post('/v3/projects', async (req, reply) => {
    const ctx = await id.authorize(req, 'identity:create_project', policyTarget({ target: { project: looseObject(req.body, 'project') } }));
    const body = bodyObject(req.body, 'project');
    const p = checkProjectBody(body, true);
    const row = await createProject(id, ctx, {
      name: p.name!, description: p.description, enabled: p.enabled, isDomain: p.isDomain === true, domainId: p.domainId,
      parentId: p.parentId, tags: p.tags, options: p.options, extra: p.extra,
    });
    reply.status(201);
    return { project: (await renderProjects(id, req, [row]))[0] };
  });

  app.patch<{ Params: { project_id: string } }>('/v3/projects/:project_id', async (req) => {
    const { row, target } = await projectPolicyTarget(id, req.params.project_id);
    await id.authorize(req, 'identity:update_project', target);
    const body = bodyObject(req.body, 'project');
    requireSomething(body);
    const p = checkProjectBody(body, false);
    requireMatchingId(body, req.params.project_id);
    if (!row) throw notFoundProject(req.params.project_id);
    const updated = await updateProject(id, row, {
      name: p.name, description: p.description, enabled: p.enabled, isDomain: p.isDomain, domainId: p.domainId,
      parentId: p.parentId, tags: p.tags, options: p.options, extra: p.extra, raw: body,
    });
    return { project: (await renderProjects(id, req, [updated]))[0] };
  });

  app.delete<{ Params: { project_id: string } }>('/v3/projects/:project_id', async (req, reply) => {
    const { row, target } = await projectPolicyTarget(id, req.params.project_id);
    await id.authorize(req, 'identity:delete_project', target);
    if (!row) throw notFoundProject(req.params.project_id);
    await deleteProject(id, row);
    reply.status(204).send();
  });

  registerTags(app, id);
}
