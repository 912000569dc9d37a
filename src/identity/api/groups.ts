import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { badRequest, notFound } from '../../platform/http/faults.js';
import type { GroupRow } from '../store/schema.js';
import { newId, parseJsonObject } from '../util.js';
import { applyFilters, listBody } from './listing.js';
import { deleteGroupCascade } from '../resources/cascade.js';
import { duplicateDetail, storeOrConflict } from '../resources/conflict.js';
import { Effects } from '../resources/effects.js';
import { extrasOf, groupRef, withLink } from '../resources/entity.js';
import { loadDomain } from '../resources/project-store.js';
import { filterValues, policyTarget } from '../resources/policy-target.js';
import { applyLimit, defaultDomainFor, inexact, queryOf } from '../resources/query.js';
import { bodyObject, looseObject, checkDescription, checkIdString, checkName, requireMatchingId, requireSomething } from '../resources/schema.js';
import { GROUP_USER_FILTERS, listUsers } from '../resources/user-list.js';
import { loadUser, userTarget } from '../resources/user-ops.js';
import { answerLdapMembership, findLdapGroup, isLdapDomain, ldapMembership, listLdapGroups, readOnlyLdap } from '../ldap/api.js';

type Params = { group_id: string };
type MemberParams = { group_id: string; user_id: string };

const MODELLED = ['name', 'domain_id', 'description'];

const notFoundGroup = (groupId: string) => notFound(`Could not find group: ${groupId}.`);
const loadGroup = (id: Identity, groupId: string): Promise<GroupRow | undefined> =>
  id.db.selectFrom('user_group').selectAll().where('id', '=', groupId).executeTakeFirst();
const render = (req: FastifyRequest, row: GroupRow) => withLink(req, 'groups', groupRef(row));

/** Validates a group object as Keystone's group_create/group_update schemas. */
function checkGroupBody(body: Record<string, unknown>, create: boolean) {
  return {
    name: checkName(body, 'name', 255, create),
    description: checkDescription(body),
    domainId: checkIdString(body, 'domain_id', false) ?? undefined,
    extra: extrasOf(body, MODELLED),
  };
}

/** The target of a membership route: the group and the user (SQL or LDAP), each when it exists. */
async function membershipTarget(id: Identity, p: MemberParams) {
  const group = await loadGroup(id, p.group_id);
  const user = await loadUser(id, p.user_id);
  const sql = { group: group && groupRef(group), user: user && await userTarget(id, user) };
  const ldap = group && user ? undefined : await ldapMembership(id, p.group_id, p.user_id, sql);
  const target: Record<string, unknown> = {};
  if (ldap?.group ?? sql.group) target.group = ldap?.group ?? sql.group;
  if (ldap?.user ?? sql.user) target.user = ldap?.user ?? sql.user;
  return { group, user, ldap, target: policyTarget({ view: { ...p }, target }) };
}

/** The group and user of a membership route after enforcement: 404 for either missing. */
function requireBoth(m: Awaited<ReturnType<typeof membershipTarget>>, p: MemberParams): { group: GroupRow; userId: string } {
  if (!m.group) throw notFoundGroup(p.group_id);
  if (!m.user) throw notFound(`Could not find user: ${p.user_id}.`);
  return { group: m.group, userId: m.user.id };
}

async function isMember(id: Identity, groupId: string, userId: string): Promise<boolean> {
  return !!(await id.db.selectFrom('group_membership').select('user_id').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst());
}

const notMember = (p: MemberParams) => notFound(`User '${p.user_id}' not found in group '${p.group_id}'`);

/** /v3/groups: CRUD and membership. */
export function register(app: FastifyInstance, id: Identity): void {
  app.get('/v3/groups', async (req) => {
    const q = queryOf(req.query);
    const ctx = await id.caller(req);
    const target = ctx.domain ? { group: { domain_id: ctx.domain.id } } : undefined;
    id.enforce(ctx, 'identity:list_groups', policyTarget({ target, filters: filterValues(q, ['domain_id', 'name']) }));
    const ldap = await listLdapGroups(id, req, ctx, q);
    if (ldap) return listBody(req, 'groups', ldap.items, ldap.truncated);
    let query = id.db.selectFrom('user_group').selectAll();
    if ('domain_id' in q) query = query.where('domain_id', '=', q.domain_id);
    if ('name' in q) query = query.where('name', '=', q.name);
    let rows = await query.orderBy('name').execute();
    if (ctx.domain) rows = rows.filter((r) => r.domain_id === ctx.domain!.id);
    const items = applyFilters(rows.map((r) => render(req, r)), inexact(q), ['name', 'domain_id']);
    const limited = applyLimit(id, items);
    return listBody(req, 'groups', limited.items, limited.truncated);
  });

  app.get<{ Params: Params }>('/v3/groups/:group_id', async (req) => {
    const row = await loadGroup(id, req.params.group_id);
    const ldap = row ? undefined : await findLdapGroup(id, req.params.group_id);
    await id.authorize(req, 'identity:get_group', policyTarget({ view: { ...req.params }, target: row ? { group: groupRef(row) } : ldap ? { group: ldap } : {} }));
    if (ldap) return { group: withLink(req, 'groups', ldap) };
    if (!row) throw notFoundGroup(req.params.group_id);
    return { group: render(req, row) };
  });

  app.post('/v3/groups', async (req, reply) => {
    const ctx = await id.authorize(req, 'identity:create_group', policyTarget({ target: { group: looseObject(req.body, 'group') } }));
    const body = bodyObject(req.body, 'group');
    const g = checkGroupBody(body, true);
    const domainId = g.domainId || defaultDomainFor(ctx);
    if (!(await loadDomain(id.db, domainId))) throw notFound(`Could not find domain: ${domainId}.`);
    if (await isLdapDomain(id, domainId)) throw readOnlyLdap();
    const row: GroupRow = { id: newId(), domain_id: domainId, name: g.name!.trim(), description: g.description ?? '', extra: JSON.stringify(g.extra) };
    await storeOrConflict('group', duplicateDetail(row.name, domainId), () => id.db.insertInto('user_group').values(row).execute());
    const fx = new Effects();
    fx.notify('identity.group.created', row.id);
    await fx.apply(id);
    reply.status(201);
    return { group: render(req, row) };
  });

  app.patch<{ Params: Params }>('/v3/groups/:group_id', async (req) => {
    const row = await loadGroup(id, req.params.group_id);
    const ldap = row ? undefined : await findLdapGroup(id, req.params.group_id);
    await id.authorize(req, 'identity:update_group', policyTarget({ view: { ...req.params }, target: row ? { group: groupRef(row) } : ldap ? { group: ldap } : {} }));
    if (ldap) throw readOnlyLdap();
    const body = bodyObject(req.body, 'group');
    requireSomething(body);
    const g = checkGroupBody(body, false);
    requireMatchingId(body, req.params.group_id);
    if (!row) throw notFoundGroup(req.params.group_id);
    if ('domain_id' in body && body.domain_id !== row.domain_id) throw badRequest('Cannot change Domain ID');
    const name = g.name !== undefined ? g.name.trim() : row.name;
    const updated: GroupRow = {
      ...row, name, description: g.description === undefined ? row.description : g.description ?? '',
      extra: JSON.stringify({ ...parseJsonObject(row.extra), ...g.extra }),
    };
    await storeOrConflict('group', duplicateDetail(name, row.domain_id), () => id.db.updateTable('user_group')
      .set({ name: updated.name, description: updated.description, extra: updated.extra }).where('id', '=', row.id).execute());
    const fx = new Effects();
    fx.notify('identity.group.updated', row.id);
    await fx.apply(id);
    return { group: render(req, updated) };
  });

  app.delete<{ Params: Params }>('/v3/groups/:group_id', async (req, reply) => {
    const row = await loadGroup(id, req.params.group_id);
    const ldap = row ? undefined : await findLdapGroup(id, req.params.group_id);
    if (ldap) {
      await id.authorize(req, 'identity:delete_group', policyTarget({ view: { ...req.params }, target: { group: ldap } }));
      throw readOnlyLdap();
    }
    if (!row) throw notFoundGroup(req.params.group_id);
    await id.authorize(req, 'identity:delete_group', policyTarget({ view: { ...req.params }, target: { group: groupRef(row) } }));
    const fx = new Effects();
    await id.db.transaction().execute((trx) => deleteGroupCascade(trx, row.id, fx));
    await fx.apply(id);
    reply.status(204).send();
  });

  app.get<{ Params: Params }>('/v3/groups/:group_id/users', async (req) => {
    const q = queryOf(req.query);
    const row = await loadGroup(id, req.params.group_id);
    const ldap = row ? undefined : await findLdapGroup(id, req.params.group_id);
    const ctx = await id.caller(req);
    id.enforce(ctx, 'identity:list_users_in_group', policyTarget({
      view: { ...req.params }, target: row ? { group: groupRef(row) } : ldap ? { group: ldap } : undefined, filters: filterValues(q, GROUP_USER_FILTERS),
    }));
    if (!row && !ldap) throw notFoundGroup(req.params.group_id);
    const { items, truncated } = await listUsers(id, req, ctx, q, req.params.group_id);
    return listBody(req, 'users', items, truncated);
  });

  app.get<{ Params: MemberParams }>('/v3/groups/:group_id/users/:user_id', async (req, reply) => {
    const m = await membershipTarget(id, req.params);
    await id.authorize(req, 'identity:check_user_in_group', m.target);
    if (m.ldap) {
      await answerLdapMembership(m.ldap, req.params.group_id, req.params.user_id, 'check');
      return reply.status(204).send();
    }
    const { group, userId } = requireBoth(m, req.params);
    if (!(await isMember(id, group.id, userId))) throw notMember(req.params);
    reply.status(204).send();
  });

  app.put<{ Params: MemberParams }>('/v3/groups/:group_id/users/:user_id', async (req, reply) => {
    const m = await membershipTarget(id, req.params);
    await id.authorize(req, 'identity:add_user_to_group', m.target);
    if (m.ldap) await answerLdapMembership(m.ldap, req.params.group_id, req.params.user_id, 'write');
    const { group, userId } = requireBoth(m, req.params);
    if (!(await isMember(id, group.id, userId))) {
      await id.db.insertInto('group_membership').values({ user_id: userId, group_id: group.id }).execute()
        .catch(async (err) => { if (!(await isMember(id, group.id, userId))) throw err; });
    }
    const fx = new Effects();
    fx.notify('identity.group.updated', group.id, { actor_id: userId, actor_type: 'user', actor_operation: 'added' });
    await fx.apply(id);
    reply.status(204).send();
  });

  app.delete<{ Params: MemberParams }>('/v3/groups/:group_id/users/:user_id', async (req, reply) => {
    const m = await membershipTarget(id, req.params);
    await id.authorize(req, 'identity:remove_user_from_group', m.target);
    if (m.ldap) await answerLdapMembership(m.ldap, req.params.group_id, req.params.user_id, 'write');
    const { group, userId } = requireBoth(m, req.params);
    const res = await id.db.deleteFrom('group_membership').where('group_id', '=', group.id).where('user_id', '=', userId).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notMember(req.params);
    const fx = new Effects();
    fx.users.add(userId);
    fx.notify('identity.group.updated', group.id, { actor_id: userId, actor_type: 'user', actor_operation: 'removed' });
    await fx.apply(id);
    reply.status(204).send();
  });
}
