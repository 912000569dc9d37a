/**
 * Security groups and their rules: attribute maps, the per-project `default` group (egress
 * anything; ingress from members of the same group), created on first need as Neutron does, and
 * the security group API (create adds egress-anything rules; the default group keeps its name and
 * only an admin deletes it; a group ports use cannot be deleted or change statefulness).
 */
import { randomUUID } from 'node:crypto';
import type { Caller, NetworkContext } from './context.js';
import { netFault, notFoundOf } from './faults.js';
import { render, standardAttributes } from './resource/body.js';
import type { Query } from './resource/list.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, insertObj, nowStamp, saveObj, type Db } from './resource/store.js';
import { checkQuotaForItems } from './quotas.js';
import { transact } from './resource/tx.js';
import type { Obj, ResourceDef } from './resource/types.js';
import { boolean, oneOf, string, stringOrNone, type Check } from './resource/validate.js';
import { convertEthertype, convertIpPrefix, convertPortValue, convertProtocol } from './security-group-rule-checks.js';

/** Neutron's `name_not_default`: any string but `default` (any case), which only the cloud creates. */
const nameNotDefault: Check<string> = (v, attr) => {
  const name = string(255)(v, attr);
  if (name.toLowerCase() === 'default') throw netFault(409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
  return name;
};

export const securityGroupDef: ResourceDef = {
  member: 'security_group', collection: 'security_groups', table: 'net_security_group', columns: {},
  notFound: (id) => notFoundOf('SecurityGroupNotFound', `Security group ${id} does not exist`),
  attributes: {
    ...standardAttributes(),
    name: { post: true, put: true, default: '', check: nameNotDefault },
    security_group_rules: { post: false, put: false, filter: false },
    stateful: { post: true, put: true, default: true, check: boolean },
    shared: { post: false, put: false },
  },
};

export const securityGroupRuleDef: ResourceDef = {
  member: 'security_group_rule', collection: 'security_group_rules', table: 'net_security_group_rule',
  columns: { security_group_id: 'security_group_id', remote_group_id: 'remote_group_id' },
  sqlFilters: ['security_group_id'],
  notFound: (id) => notFoundOf('SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`),
  attributes: {
    ...standardAttributes({ name: false, tags: false }),
    // Neutron checks only the length of group ids here: an unknown or malformed id is a 404.
    security_group_id: { post: true, put: false, required: true, check: string(36) },
    direction: { post: true, put: false, required: true, check: oneOf(['ingress', 'egress']) },
    ethertype: { post: true, put: false, default: 'IPv4', check: convertEthertype },
    protocol: { post: true, put: false, default: null, check: convertProtocol },
    port_range_min: { post: true, put: false, default: null, check: convertPortValue },
    port_range_max: { post: true, put: false, default: null, check: convertPortValue },
    remote_ip_prefix: { post: true, put: false, default: null, check: convertIpPrefix },
    remote_group_id: { post: true, put: false, default: null, check: stringOrNone(255) },
    remote_address_group_id: { post: true, put: false, default: null, check: stringOrNone(255) },
    normalized_cidr: { post: false, put: false },
    belongs_to_default_sg: { post: false, put: false },
  },
};

/** A rule object with Neutron's defaults filled. */
export function ruleObj(attrs: Record<string, unknown>, projectId: string): Obj {
  const now = nowStamp();
  return {
    id: randomUUID(), tenant_id: projectId, project_id: projectId, description: '',
    protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null,
    remote_address_group_id: null, normalized_cidr: null, belongs_to_default_sg: false, ethertype: 'IPv4',
    ...attrs, created_at: now, updated_at: now, revision_number: 0,
  } as Obj;
}

/** The id of a project's default group, if it has one. */
export async function defaultGroupIdOf(db: Db, projectId: string): Promise<string | undefined> {
  const row = await db.selectFrom('net_default_security_group').select('security_group_id').where('project_id', '=', projectId).executeTakeFirst();
  return row ? String(row.security_group_id) : undefined;
}

/** Whether `groupId` is some project's default group. */
export async function isDefaultGroup(db: Db, groupId: string): Promise<boolean> {
  return !!await db.selectFrom('net_default_security_group').select('project_id').where('security_group_id', '=', groupId).executeTakeFirst();
}

/** The group's row read for update (PostgreSQL/MariaDB lock it; SQLite writers are serialised anyway). */
export async function lockGroup(ctx: NetworkContext, tx: Db, id: string): Promise<Obj | undefined> {
  let q = tx.selectFrom('net_security_group').select('body').where('id', '=', id);
  if (ctx.engine !== 'sqlite') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? JSON.parse(String(row.body)) as Obj : undefined;
}

/**
 * The project's `default` group, created (with its four rules) if it does not exist. A
 * concurrent creator wins or loses on `net_default_security_group`'s key (insert-or-ignore, so a
 * transaction is never aborted by the race), and a project never gets two.
 */
export async function ensureDefaultGroup(ctx: NetworkContext, db: Db, projectId: string): Promise<string> {
  const known = await defaultGroupIdOf(db, projectId);
  if (known) return known;
  const id = randomUUID();
  const now = nowStamp();
  const insert = db.insertInto('net_default_security_group').values({ project_id: projectId, security_group_id: id });
  await (ctx.engine === 'mysql' ? insert.ignore() : insert.onConflict((oc) => oc.column('project_id').doNothing())).execute();
  const winner = await defaultGroupIdOf(db, projectId);
  if (winner === undefined) {
    // MariaDB's snapshot hides the row a concurrent creator just committed: transact() retries afresh.
    throw Object.assign(new Error(`default security group of ${projectId} created concurrently`), { code: 'ER_DUP_ENTRY' });
  }
  if (winner !== id) return winner;
  await insertObj(db, securityGroupDef, {
    id, name: 'default', description: 'Default security group', tenant_id: projectId, project_id: projectId,
    stateful: true, shared: false, tags: [], created_at: now, updated_at: now, revision_number: 1,
  });
  for (const ethertype of ['IPv4', 'IPv6']) {
    await insertObj(db, securityGroupRuleDef, ruleObj({ security_group_id: id, direction: 'egress', ethertype, belongs_to_default_sg: true }, projectId));
    await insertObj(db, securityGroupRuleDef, ruleObj({ security_group_id: id, direction: 'ingress', ethertype, remote_group_id: id, belongs_to_default_sg: true }, projectId));
  }
  ctx.changed('security_group', id);
  return id;
}

/**
 * Before a list of groups or rules, Neutron makes sure the default group of the project asked
 * about exists: the `project_id`/`tenant_id` filter's, else the caller's. Only an admin does it
 * for another project.
 */
export async function ensureDefaultForList(ctx: NetworkContext, query: Query, caller: Caller): Promise<void> {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const projectId = first(query.project_id) ?? first(query.tenant_id) ?? caller.projectId;
  if (!projectId || projectId.length > 255 || (projectId !== caller.projectId && !caller.isAdmin)) return;
  if (await defaultGroupIdOf(ctx.db, projectId)) return;
  await transact(ctx, (tx) => ensureDefaultGroup(ctx, tx, projectId));
}

/** Ids of the ports that use a group. */
export async function portsUsingGroup(db: Db, groupId: string): Promise<string[]> {
  // Ports keep their groups in the JSON body; the LIKE narrows, the parse decides.
  const rows = await db.selectFrom('net_port').select(['id', 'body']).where('body', 'like', `%${groupId.replace(/[%_\\]/g, '')}%`).execute();
  return rows.filter((r) => ((JSON.parse(String(r.body)) as { security_groups?: string[] }).security_groups ?? []).includes(groupId)).map((r) => String(r.id));
}

/** Adds `security_group_rules` (every rule of each group, whoever owns it) to groups. */
async function attachRules(ctx: NetworkContext, objs: Obj[], caller: Caller): Promise<void> {
  if (objs.length === 0) return;
  const by = new Map<string, Obj[]>();
  const ids = objs.map((o) => o.id);
  for (let i = 0; i < ids.length; i += 500) {
    for (const r of await findObjs(ctx.db, securityGroupRuleDef, { security_group_id: ids.slice(i, i + 500) })) {
      const gid = String(r.security_group_id);
      (by.get(gid) ?? by.set(gid, []).get(gid)!).push(r);
    }
  }
  const order = (a: Obj, b: Obj) => String(a.created_at).localeCompare(String(b.created_at)) || a.id.localeCompare(b.id);
  for (const o of objs) (o as Record<string, unknown>).security_group_rules = (by.get(o.id) ?? []).sort(order).map((r) => render(securityGroupRuleDef, r, caller));
}

async function createGroup(ctx: NetworkContext, tx: Db, attrs: Record<string, unknown>): Promise<Obj> {
  const projectId = String(attrs.project_id);
  await ensureDefaultGroup(ctx, tx, projectId);
  const now = nowStamp();
  const obj: Obj = { ...attrs, id: randomUUID(), shared: false, tags: [], created_at: now, updated_at: now, revision_number: 1 };
  await insertObj(tx, securityGroupDef, obj);
  for (const ethertype of ['IPv4', 'IPv6']) {
    await insertObj(tx, securityGroupRuleDef, ruleObj({ security_group_id: obj.id, direction: 'egress', ethertype }, projectId));
  }
  return obj;
}

/**
 * Deletes a group, its rules, and every rule elsewhere that names it as remote group (Neutron's
 * cascade); returns the other groups whose rules changed.
 */
async function deleteGroupIn(ctx: NetworkContext, tx: Db, id: string): Promise<string[]> {
  await tx.deleteFrom('net_security_group_rule').where('security_group_id', '=', id).execute();
  const referring = await findObjs(tx, securityGroupRuleDef, { remote_group_id: id });
  const touched = [...new Set(referring.map((r) => String(r.security_group_id)))];
  for (const r of referring) await deleteObj(tx, securityGroupRuleDef, r.id);
  for (const gid of touched) {
    const g = await lockGroup(ctx, tx, gid);
    if (g) await saveObj(tx, securityGroupDef, g);
  }
  await tx.deleteFrom('net_default_security_group').where('security_group_id', '=', id).execute();
  await deleteObj(tx, securityGroupDef, id);
  return touched;
}

const inUse = (id: string) => netFault(409, 'SecurityGroupInUse', `Security Group ${id} in use.`);
const notOwner = (caller: Caller, obj: Obj) => !caller.isAdmin && obj.project_id !== caller.projectId;

/** The security groups collection. */
export function securityGroupBehaviour(ctx: NetworkContext): ResourceBehaviour {
  return {
    def: securityGroupDef,
    beforeList: (query, caller) => ensureDefaultForList(ctx, query, caller),
    decorate: (objs, caller) => attachRules(ctx, objs, caller),
    create: async (items, caller) => {
      const made = await transact(ctx, async (tx) => {
        await checkQuotaForItems(ctx, tx, items, 'security_group', caller.projectId);
        const out: Obj[] = [];
        for (const attrs of items) out.push(await createGroup(ctx, tx, attrs));
        return out;
      });
      for (const g of made) { ctx.notify('security_group.create.end', { security_group: g }); ctx.changed('security_group', g.id); }
      return made;
    },
    update: async (obj, attrs, caller) => {
      if (notOwner(caller, obj)) throw netFault(403, 'PolicyNotAuthorized', '(rule:update_security_group) is disallowed by policy');
      const next = await transact(ctx, async (tx) => {
        const current = await lockGroup(ctx, tx, obj.id);
        if (!current) throw securityGroupDef.notFound(obj.id);
        if (current.name === 'default' && 'name' in attrs) throw netFault(409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
        if (attrs.stateful !== undefined && attrs.stateful !== current.stateful && (await portsUsingGroup(tx, obj.id)).length) throw inUse(obj.id);
        return saveObj(tx, securityGroupDef, { ...current, ...attrs });
      });
      ctx.notify('security_group.update.end', { security_group: next });
      ctx.changed('security_group', obj.id);
      return next;
    },
    remove: async (obj, caller) => {
      if (notOwner(caller, obj)) throw netFault(403, 'PolicyNotAuthorized', '(rule:delete_security_group) is disallowed by policy');
      const touched = await transact(ctx, async (tx) => {
        const current = await lockGroup(ctx, tx, obj.id);
        if (!current) throw securityGroupDef.notFound(obj.id);
        if ((await portsUsingGroup(tx, obj.id)).length) throw inUse(obj.id);
        if (current.name === 'default' && !caller.isAdmin) throw netFault(409, 'SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
        return deleteGroupIn(ctx, tx, obj.id);
      });
      ctx.notify('security_group.delete.end', { security_group_id: obj.id });
      ctx.changed('security_group', obj.id);
      for (const gid of touched) ctx.changed('security_group', gid);
    },
  };
}
