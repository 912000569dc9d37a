/**
 * Security groups and their rules: attribute maps and the per-project `default` group (egress
 * anything; ingress from members of the same group), created on first need as Neutron does.
 */
import { randomUUID } from 'node:crypto';
import type { NetworkContext } from './context.js';
import { notFoundOf } from './faults.js';
import { standardAttributes } from './resource/body.js';
import { insertObj, nowStamp, type Db } from './resource/store.js';
import { isUniqueViolation } from './resource/tx.js';
import type { Obj, ResourceDef } from './resource/types.js';
import { boolean, integerOrNone, oneOf, stringOrNone, uuid, uuidOrNone } from './resource/validate.js';

export const securityGroupDef: ResourceDef = {
  member: 'security_group', collection: 'security_groups', table: 'net_security_group', columns: {},
  notFound: (id) => notFoundOf('SecurityGroupNotFound', `Security group ${id} does not exist`),
  attributes: {
    ...standardAttributes(),
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
    security_group_id: { post: true, put: false, required: true, check: uuid },
    direction: { post: true, put: false, required: true, check: oneOf(['ingress', 'egress']) },
    ethertype: { post: true, put: false, default: 'IPv4', check: oneOf(['IPv4', 'IPv6']) },
    protocol: { post: true, put: false, default: null, check: stringOrNone(40) },
    port_range_min: { post: true, put: false, default: null, check: integerOrNone(0, 65535) },
    port_range_max: { post: true, put: false, default: null, check: integerOrNone(0, 65535) },
    remote_ip_prefix: { post: true, put: false, default: null, check: stringOrNone(64) },
    remote_group_id: { post: true, put: false, default: null, check: uuidOrNone },
    remote_address_group_id: { post: true, put: false, default: null, check: uuidOrNone },
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

/**
 * The project's `default` group, created (with its four rules) if it does not exist. A
 * concurrent creator loses the race on `net_default_security_group`'s key, so a project never
 * gets two.
 */
export async function ensureDefaultGroup(ctx: NetworkContext, db: Db, projectId: string): Promise<string> {
  const known = await db.selectFrom('net_default_security_group').select('security_group_id').where('project_id', '=', projectId).executeTakeFirst();
  if (known) return String(known.security_group_id);
  const id = randomUUID();
  const now = nowStamp();
  try {
    await db.insertInto('net_default_security_group').values({ project_id: projectId, security_group_id: id }).execute();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return ensureDefaultGroup(ctx, db, projectId);
  }
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
