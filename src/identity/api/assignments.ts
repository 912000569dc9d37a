import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import type { TokenContext } from '../context.js';
import { badRequest } from '../../platform/http/faults.js';
import { baseUrl, listBody } from './listing.js';
import {
  checkGrant, checkSystemGrant, createGrant, createSystemGrant, deleteGrant, deleteSystemGrant, listGrants, listSystemGrants,
  type GrantActor, type GrantTarget,
} from '../assignments/grants.js';
import {
  findDomain, findGroup, findProject, findRole, findUser, groupNotFound, renderRole, requireDomain, requireProject, requireRole,
  roleTarget, userNotFound,
} from '../assignments/refs.js';
import { listRoleAssignments } from '../assignments/list.js';
import { formatAssignment, NameResolver } from '../assignments/format.js';
import { filterValues, firstValue, policyTarget } from '../assignments/policy-target.js';

type Args = Record<string, string>;
type Kind = 'user' | 'group';
type Where = 'project' | 'domain' | 'inherit-project' | 'inherit-domain';

/** How each family of grant URLs builds its policy target, as Keystone's resources do. */
async function grantTarget(id: Identity, where: Where, a: Args, allowMissingActor: boolean): Promise<Record<string, unknown>> {
  const t: Record<string, unknown> = {};
  if (where === 'inherit-project' || where === 'inherit-domain') {
    // OS-INHERIT leaves missing entities empty and lets policy (then the grant logic) decide.
    if (a.role_id) { const r = await findRole(id, a.role_id); t.role = r ? roleTarget(r) : {}; }
    const actor = a.user_id ? await findUser(id, a.user_id) : await findGroup(id, a.group_id);
    if (actor || !allowMissingActor) t[a.user_id ? 'user' : 'group'] = actor ?? {};
    if (a.domain_id) t.domain = (await findDomain(id, a.domain_id)) ?? {};
    else t.project = (await findProject(id, a.project_id)) ?? {};
    return t;
  }
  if (where === 'domain') t.domain = await requireDomain(id, a.domain_id);
  if (a.role_id) t.role = roleTarget(await requireRole(id, a.role_id));
  if (a.user_id) {
    const u = await findUser(id, a.user_id);
    if (u) t.user = u; else if (!allowMissingActor) throw userNotFound(a.user_id);
  } else {
    const g = await findGroup(id, a.group_id);
    if (g) t.group = g; else if (!allowMissingActor) throw groupNotFound(a.group_id);
  }
  if (where === 'project') t.project = await requireProject(id, a.project_id);
  return t;
}

const actorOf = (a: Args): GrantActor => (a.user_id ? { user: a.user_id } : { group: a.group_id });
const targetOf = (a: Args): GrantTarget => (a.domain_id ? { domain: a.domain_id } : { project: a.project_id });

/** Registers the grant routes (check/grant/revoke and list) of one URL family. */
function grantRoutes(app: FastifyInstance, id: Identity, where: Where, kind: Kind): void {
  const inherited = where.startsWith('inherit');
  const prefix = {
    project: `/v3/projects/:project_id/${kind}s/:${kind}_id/roles`,
    domain: `/v3/domains/:domain_id/${kind}s/:${kind}_id/roles`,
    'inherit-project': `/v3/OS-INHERIT/projects/:project_id/${kind}s/:${kind}_id/roles`,
    'inherit-domain': `/v3/OS-INHERIT/domains/:domain_id/${kind}s/:${kind}_id/roles`,
  }[where];
  const suffix = inherited ? '/inherited_to_projects' : '';
  const one = `${prefix}/:role_id${suffix}`;
  const enforce = async (req: FastifyRequest, rule: string, allowMissingActor = false) => {
    const ctx = await id.caller(req);
    const args = req.params as Args;
    id.enforce(ctx, rule, policyTarget(await grantTarget(id, where, args, allowMissingActor), args));
    return args;
  };

  app.get(one, async (req, reply) => {
    const a = await enforce(req, 'identity:check_grant');
    await checkGrant(id, a.role_id, actorOf(a), targetOf(a), inherited);
    return reply.status(204).send();
  });
  app.put(one, async (req, reply) => {
    const a = await enforce(req, 'identity:create_grant');
    await createGrant(id, a.role_id, actorOf(a), targetOf(a), inherited);
    id.notify('identity.role_assignment.created', { role: a.role_id, ...(a.user_id ? { user: a.user_id } : { group: a.group_id }), ...(a.project_id ? { project: a.project_id } : { domain: a.domain_id }), inherited_to_projects: inherited });
    return reply.status(204).send();
  });
  app.delete(one, async (req, reply) => {
    // Keystone's project/domain revocations tolerate a deleted actor; OS-INHERIT ones do not look.
    const a = await enforce(req, 'identity:revoke_grant', !inherited);
    await deleteGrant(id, a.role_id, actorOf(a), targetOf(a), inherited);
    id.notify('identity.role_assignment.deleted', { role: a.role_id, ...(a.user_id ? { user: a.user_id } : { group: a.group_id }), ...(a.project_id ? { project: a.project_id } : { domain: a.domain_id }), inherited_to_projects: inherited });
    return reply.status(204).send();
  });
  // Keystone has no list form for grants inherited from a project.
  if (where === 'inherit-project') return;
  app.get(`${prefix}${suffix}`, async (req) => {
    const a = await enforce(req, 'identity:list_grants');
    const roles = await listGrants(id, actorOf(a), targetOf(a), inherited);
    return listBody(req, 'roles', roles.map((r) => renderRole(r, `${baseUrl(req)}/v3`)));
  });
}

/** Registers /v3/system/{users|groups}/{id}/roles[/{role_id}]. */
function systemRoutes(app: FastifyInstance, id: Identity, kind: Kind): void {
  const list = `/v3/system/${kind}s/:${kind}_id/roles`;
  const enforce = async (req: FastifyRequest, verb: string, allowMissingActor = false) => {
    const ctx = await id.caller(req);
    const a = req.params as Args;
    const t: Record<string, unknown> = {};
    if (a.role_id) t.role = roleTarget(await requireRole(id, a.role_id));
    const actor = kind === 'user' ? await findUser(id, a.user_id) : await findGroup(id, a.group_id);
    if (actor) t[kind] = actor;
    else if (!allowMissingActor) throw kind === 'user' ? userNotFound(a.user_id) : groupNotFound(a.group_id);
    id.enforce(ctx, `identity:${verb}_system_grant${verb === 'list' ? 's' : ''}_for_${kind}`, policyTarget(t, a));
    return a;
  };
  const actor = (a: Args): GrantActor => (kind === 'user' ? { user: a.user_id } : { group: a.group_id });

  app.get(list, async (req) => {
    const a = await enforce(req, 'list');
    return listBody(req, 'roles', (await listSystemGrants(id, actor(a))).map((r) => renderRole(r, `${baseUrl(req)}/v3`)));
  });
  app.get(`${list}/:role_id`, async (req, reply) => {
    const a = await enforce(req, 'check');
    await checkSystemGrant(id, actor(a), a.role_id);
    return reply.status(204).send();
  });
  app.put(`${list}/:role_id`, async (req, reply) => {
    const a = await enforce(req, 'create');
    await createSystemGrant(id, actor(a), a.role_id);
    return reply.status(204).send();
  });
  app.delete(`${list}/:role_id`, async (req, reply) => {
    const a = await enforce(req, 'revoke', true);
    await deleteSystemGrant(id, actor(a), a.role_id);
    return reply.status(204).send();
  });
}

const FILTERS = ['group.id', 'role.id', 'scope.domain.id', 'scope.project.id', 'scope.OS-INHERIT:inherited_to', 'user.id', 'scope.system'];

/** Keystone's boolean query flags: present and not '0' means true (even `?effective=false`). */
const flag = (q: Record<string, unknown>, name: string): boolean => q[name] !== undefined && firstValue(q[name]) !== '0';

/** Lists role assignments (GET /v3/role_assignments) after the caller has been authorised. */
async function roleAssignments(id: Identity, req: FastifyRequest, ctx: TokenContext, includeSubtree: boolean): Promise<Record<string, unknown>> {
  const q = req.query as Record<string, unknown>;
  const arg = (k: string): string | undefined => firstValue(q[k]) || undefined;
  if (arg('scope.domain.id') && arg('scope.project.id')) throw badRequest('Specify a domain or project, not both');
  if (arg('scope.domain.id') && arg('scope.system')) throw badRequest('Specify system or domain, not both');
  if (arg('scope.project.id') && arg('scope.system')) throw badRequest('Specify system or project, not both');
  if (arg('user.id') && arg('group.id')) throw badRequest('Specify a user or group, not both');
  const effective = flag(q, 'effective');
  const inherited = q['scope.OS-INHERIT:inherited_to'] !== undefined ? firstValue(q['scope.OS-INHERIT:inherited_to']) === 'projects' : undefined;
  if (effective && arg('group.id')) throw badRequest('Combining effective and group filter will always result in an empty list.');
  if (effective && inherited && arg('scope.domain.id')) {
    throw badRequest('Combining effective, domain and inherited filters will always result in an empty list.');
  }
  const refs = await listRoleAssignments(id, {
    role_id: arg('role.id'), user_id: arg('user.id'), group_id: arg('group.id'), system: arg('scope.system'),
    domain_id: arg('scope.domain.id'), project_id: arg('scope.project.id'), include_subtree: includeSubtree, inherited, effective,
  });
  const base = `${baseUrl(req)}/v3`;
  const resolver = flag(q, 'include_names') ? new NameResolver(id) : undefined;
  let items: Record<string, unknown>[] = [];
  for (const ref of refs) items.push(formatAssignment(ref, base, resolver ? await resolver.names(ref) : undefined));
  if (!includeSubtree && ctx.domain) {
    // A domain-scoped caller sees only the assignments on its domain and on the domain's projects.
    const own = ctx.domain.id;
    const kept: Record<string, unknown>[] = [];
    for (const item of items) {
      const scope = item.scope as { domain?: { id: string }; project?: { id: string } };
      if (scope.domain?.id === own) kept.push(item);
      else if (scope.project && (await requireProject(id, scope.project.id)).domain_id === own) kept.push(item);
    }
    items = kept;
  }
  return listBody(req, 'role_assignments', items);
}

/** Routes of grants (project, domain, OS-INHERIT, system) and of GET /v3/role_assignments. */
export function register(app: FastifyInstance, id: Identity): void {
  for (const where of ['project', 'domain', 'inherit-project', 'inherit-domain'] as const) {
    for (const kind of ['user', 'group'] as const) grantRoutes(app, id, where, kind);
  }
  for (const kind of ['user', 'group'] as const) systemRoutes(app, id, kind);

  app.get('/v3/role_assignments', async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.query as Record<string, unknown>;
    const ctx = await id.caller(req);
    if (flag(q, 'include_subtree')) {
      const projectId = firstValue(q['scope.project.id']);
      const target = projectId ? { project: await requireProject(id, projectId) } : undefined;
      id.enforce(ctx, 'identity:list_role_assignments_for_tree', policyTarget(target, {}, filterValues(q, FILTERS.slice(0, 6))));
      if (!projectId) throw badRequest('scope.project.id must be specified if include_subtree is also specified');
      return reply.send(await roleAssignments(id, req, ctx, true));
    }
    const target = ctx.domain ? { domain_id: ctx.domain.id } : undefined;
    id.enforce(ctx, 'identity:list_role_assignments', policyTarget(target, {}, filterValues(q, FILTERS)));
    return reply.send(await roleAssignments(id, req, ctx, false));
  });
}
