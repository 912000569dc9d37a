import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { badRequest, Fault, notFound } from '../../platform/http/faults.js';
import { bool } from '../util.js';
import { applyFilters, listBody } from './listing.js';
import { invalid } from './validate.js';
import { Effects } from '../resources/effects.js';
import { groupRef, withLink } from '../resources/entity.js';
import { changeOwnPassword } from '../resources/passwords.js';
import { filterValues, policyTarget } from '../resources/policy-target.js';
import { applyLimit, defaultDomainFor, filterBool, inexact, queryOf } from '../resources/query.js';
import { renderProjects } from '../resources/render.js';
import { bodyObject, looseObject, requireMatchingId, requireSomething } from '../resources/schema.js';
import { listUsers, USER_FILTERS } from '../resources/user-list.js';
import { checkUserBody, createUser, deleteUser, loadUser, renderUsers, updateUser, userTarget } from '../resources/user-ops.js';
import { projectsForUser } from '../resources/user-projects.js';
import { findLdapUser, isLdapDomain, listLdapGroupsOfUser, readOnlyLdap, refuseLdapPasswordChange } from '../ldap/api.js';

type Params = { user_id: string };

const notFoundUser = (userId: string) => notFound(`Could not find user: ${userId}.`);

/** Keystone's `_build_user_target_enforcement`: the user (SQL `row`, or `ldap`) when it exists, plus the view argument. */
async function userPolicyTarget(id: Identity, req: FastifyRequest<{ Params: Params }>, filters: Record<string, unknown> = {}) {
  const row = await loadUser(id, req.params.user_id);
  const ldap = row ? undefined : await findLdapUser(id, req.params.user_id);
  const target = row ? { user: await userTarget(id, row) } : ldap ? { user: ldap } : {};
  return { row, ldap, target: policyTarget({ view: { user_id: req.params.user_id }, target, filters }) };
}

/** Validates the self-service password body: {user: {original_password, password}}, nothing else. */
function checkPasswordChange(body: unknown): { original: string; password: string } {
  const user = bodyObject(body, 'user');
  for (const k of ['original_password', 'password']) {
    if (!(k in user)) throw invalid('user', `'${k}' is a required property`);
    if (typeof user[k] !== 'string') throw invalid(k, `${JSON.stringify(user[k])} is not of type 'string'`);
  }
  const extra = Object.keys(user).filter((k) => k !== 'original_password' && k !== 'password');
  if (extra.length) throw badRequest(`Additional properties are not allowed ('${extra.join("', '")}' ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
  return { original: user.original_password as string, password: user.password as string };
}

/** /v3/users: CRUD, self-service password change, and the user's projects and groups. */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/users', async (req) => {
    const q = queryOf(req.query);
    const ctx = await id.caller(req);
    const target = ctx.domain ? { domain_id: ctx.domain.id } : undefined;
    id.enforce(ctx, 'identity:list_users', policyTarget({ target, filters: filterValues(q, USER_FILTERS) }));
    const { items, truncated } = await listUsers(id, req, ctx, q);
    return listBody(req, 'users', items, truncated);
  });

  app.get<{ Params: Params }>('/v3/users/:user_id', async (req) => {
    const { row, ldap, target } = await userPolicyTarget(id, req);
    await id.authorize(req, 'identity:get_user', target);
    if (ldap) return { user: withLink(req, 'users', ldap) };
    if (!row) throw notFoundUser(req.params.user_id);
    return { user: (await renderUsers(id, req, [row]))[0] };
  });

  app.post('/v3/users', async (req, reply) => {
    const ctx = await id.authorize(req, 'identity:create_user', policyTarget({ target: { user: looseObject(req.body, 'user') } }));
    const body = bodyObject(req.body, 'user');
    const fields = checkUserBody(body, true);
    const domainId = fields.domainId || defaultDomainFor(ctx);
    if (await isLdapDomain(id, domainId)) throw readOnlyLdap();
    const row = await createUser(id, domainId, fields);
    reply.status(201);
    return { user: (await renderUsers(id, req, [row]))[0] };
  });

  app.patch<{ Params: Params }>('/v3/users/:user_id', async (req) => {
    const { row, ldap, target } = await userPolicyTarget(id, req);
    await id.authorize(req, 'identity:update_user', target);
    if (ldap) throw readOnlyLdap();
    if (!row) throw notFoundUser(req.params.user_id);
    const body = bodyObject(req.body, 'user');
    requireSomething(body);
    const fields = checkUserBody(body, false);
    requireMatchingId(body, row.id);
    const updated = await updateUser(id, row, fields, body);
    return { user: (await renderUsers(id, req, [updated]))[0] };
  });

  app.delete<{ Params: Params }>('/v3/users/:user_id', async (req, reply) => {
    const { row, ldap, target } = await userPolicyTarget(id, req);
    await id.authorize(req, 'identity:delete_user', target);
    if (ldap) throw readOnlyLdap();
    if (!row) throw notFoundUser(req.params.user_id);
    await deleteUser(id, row.id);
    reply.status(204).send();
  });

  // Keystone leaves the self-service password change unenforced: the original password is the proof.
  app.post<{ Params: Params }>('/v3/users/:user_id/password', async (req, reply) => {
    const { original, password } = checkPasswordChange(req.body);
    const ldapRefusal = await refuseLdapPasswordChange(id, req.params.user_id, original);
    if (ldapRefusal) throw ldapRefusal;
    await changeOwnPassword(id, req.params.user_id, original, password);
    const fx = new Effects();
    fx.users.add(req.params.user_id);
    fx.notify('identity.user.updated', req.params.user_id);
    await fx.apply(id);
    reply.status(204).send();
  });

  app.get('/v3/users/:user_id/password', async () => {
    throw new Fault(405, 'The method is not allowed for the requested URL.', { allow: 'POST' });
  });

  app.get<{ Params: Params }>('/v3/users/:user_id/projects', async (req) => {
    const q = queryOf(req.query);
    const { target } = await userPolicyTarget(id, req, filterValues(q, ['domain_id', 'enabled', 'name']));
    await id.authorize(req, 'identity:list_user_projects', target);
    let rows = await projectsForUser(id, req.params.user_id);
    if ('domain_id' in q) rows = rows.filter((r) => r.domain_id === q.domain_id);
    if ('name' in q) rows = rows.filter((r) => r.name === q.name);
    if ('enabled' in q) rows = rows.filter((r) => bool(r.enabled) === filterBool(q.enabled));
    rows.sort((a, b) => a.name.localeCompare(b.name));
    const items = applyFilters(await renderProjects(id, req, rows), inexact(q), ['name', 'domain_id']);
    const limited = applyLimit(id, items);
    return listBody(req, 'projects', limited.items, limited.truncated);
  });

  app.get<{ Params: Params }>('/v3/users/:user_id/groups', async (req) => {
    const q = queryOf(req.query);
    const { row, ldap, target } = await userPolicyTarget(id, req, filterValues(q, ['name']));
    const ctx = await id.authorize(req, 'identity:list_groups_for_user', target);
    const ldapGroups = ldap ? await listLdapGroupsOfUser(id, req, ctx, q, req.params.user_id) : undefined;
    if (ldapGroups) return listBody(req, 'groups', ldapGroups.items, ldapGroups.truncated);
    if (!row) throw notFoundUser(req.params.user_id);
    let query = id.db.selectFrom('user_group').selectAll('user_group')
      .innerJoin('group_membership', 'group_membership.group_id', 'user_group.id')
      .where('group_membership.user_id', '=', row.id);
    if ('name' in q) query = query.where('user_group.name', '=', q.name);
    let groups = await query.orderBy('user_group.name').execute();
    if (ctx.domain) groups = groups.filter((g) => g.domain_id === ctx.domain!.id);
    let items = groups.map((g) => ({ ...withLink(req, 'groups', groupRef(g)), membership_expires_at: null }));
    items = applyFilters(items, inexact(q), ['name']);
    const limited = applyLimit(id, items);
    return listBody(req, 'groups', limited.items, limited.truncated);
  });
}
