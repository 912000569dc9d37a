/**
 * The security group rules API: create (one or a bulk of rules for one group), list, show and
 * delete; rules are never updated. A rule is checked as Neutron checks it (security-group-rule-
 * checks.ts), its group and remote group must be visible to the rule's project, and a rule equal
 * to one the group has is refused with the existing rule's id. Every change bumps the group's
 * revision and signals the agents.
 */
import type { Caller, NetworkContext } from './context.js';
import { netFault } from './faults.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, getObj, insertObj, saveObj, type Db } from './resource/store.js';
import { checkQuotaForItems } from './quotas.js';
import { transact } from './resource/tx.js';
import type { Obj } from './resource/types.js';
import { canonicalise, checkRule, normalizedCidr, ruleKey, type RuleValues } from './security-group-rule-checks.js';
import { ensureDefaultForList, isDefaultGroup, lockGroup, ruleObj, securityGroupDef, securityGroupRuleDef } from './security-groups.js';

/** Whether a group may be used by (have rules added by, or be the remote of) `projectId`'s rules. */
const usableBy = (group: Obj | undefined, projectId: string, caller: Caller): group is Obj =>
  !!group && (caller.isAdmin || group.project_id === projectId);

/** Neutron's checks of a bulk: one group and one project for all rules. */
function checkBulk(items: readonly Record<string, unknown>[]): void {
  if (new Set(items.map((i) => i.security_group_id)).size > 1) {
    throw netFault(400, 'SecurityGroupNotSingleGroupRules', 'Only allowed to update rules for one security profile at a time');
  }
  if (new Set(items.map((i) => i.project_id)).size > 1) {
    throw netFault(400, 'SecurityGroupRulesNotSingleProject', 'Multiple project_ids in bulk security group rule create not allowed');
  }
}

/** One rule's values checked (no database), canonicalised as Neutron stores them. */
function prepare(attrs: Record<string, unknown>): Record<string, unknown> & RuleValues {
  const rule = { ...attrs } as Record<string, unknown> & RuleValues;
  canonicalise(rule);
  checkRule(rule);
  return rule;
}

/** The database checks of a rule, in Neutron's order: remote group, remote address group, group. */
async function checkReferences(tx: Db, rule: RuleValues & { project_id?: unknown }, caller: Caller): Promise<void> {
  const projectId = String(rule.project_id);
  if (rule.remote_group_id && !usableBy(await getObj(tx, securityGroupDef, rule.remote_group_id), projectId, caller)) {
    throw securityGroupDef.notFound(rule.remote_group_id);
  }
  // Address groups are not offered (the extension is not advertised): every id is unknown.
  if (rule.remote_address_group_id) throw netFault(404, 'AddressGroupNotFound', `Address group ${rule.remote_address_group_id} could not be found.`);
  if (!usableBy(await getObj(tx, securityGroupDef, rule.security_group_id), projectId, caller)) throw securityGroupDef.notFound(rule.security_group_id);
}

/** The group's rules as committed now (a locking read sees past the transaction's snapshot). */
async function currentRules(ctx: NetworkContext, tx: Db, groupId: string): Promise<Obj[]> {
  let q = tx.selectFrom('net_security_group_rule').select('body').where('security_group_id', '=', groupId);
  if (ctx.engine !== 'sqlite') q = q.forUpdate();
  return (await q.execute()).map((r) => JSON.parse(String(r.body)) as Obj);
}

/** Creates rules of one group inside a transaction. */
async function createRulesIn(ctx: NetworkContext, tx: Db, items: readonly Record<string, unknown>[], caller: Caller): Promise<Obj[]> {
  checkBulk(items);
  const rules = items.map(prepare);
  const groupId = rules[0]!.security_group_id;
  // Locked before anything is read, so two requests adding the same rule cannot both miss each
  // other's (MariaDB's snapshot starts at the first plain read of the transaction).
  const group = await lockGroup(ctx, tx, groupId);
  for (const r of rules) await checkReferences(tx, r, caller);
  if (!group) throw securityGroupDef.notFound(groupId);
  const fresh = new Set<string>();
  for (const r of rules) {
    const key = ruleKey(r);
    if (fresh.has(key)) throw netFault(409, 'DuplicateSecurityGroupRuleInPost', 'Duplicate Security Group Rule in POST.');
    fresh.add(key);
  }
  for (const existing of await currentRules(ctx, tx, groupId)) {
    if (fresh.has(ruleKey(existing as unknown as RuleValues))) {
      throw netFault(409, 'SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${existing.id}.`);
    }
  }
  const belongsToDefault = await isDefaultGroup(tx, groupId);
  const made: Obj[] = [];
  for (const r of rules) {
    const obj = ruleObj({ ...r, description: r.description ?? '', normalized_cidr: normalizedCidr(r.remote_ip_prefix), belongs_to_default_sg: belongsToDefault }, String(r.project_id));
    await insertObj(tx, securityGroupRuleDef, obj);
    made.push(obj);
  }
  // A rule change is a change of its group (Neutron bumps the group's revision too).
  await saveObj(tx, securityGroupDef, group);
  return made;
}

/** Rules the caller does not own but sees: those in the caller's own groups. */
async function rulesInOwnGroups(db: Db, caller: Caller, where: Record<string, unknown>): Promise<Obj[]> {
  if (!caller.projectId) return [];
  let groups = (await db.selectFrom('net_security_group').select('id').where('project_id', '=', caller.projectId).execute()).map((r) => String(r.id));
  const asked = where.security_group_id;
  if (asked !== undefined) {
    const wanted = new Set((Array.isArray(asked) ? asked : [asked]).map(String));
    groups = groups.filter((g) => wanted.has(g));
  }
  const out: Obj[] = [];
  for (let i = 0; i < groups.length; i += 500) out.push(...await findObjs(db, securityGroupRuleDef, { ...where, security_group_id: groups.slice(i, i + 500) }));
  return out;
}

/** The security group rules collection (no update: rules are replaced, never changed). */
export function securityGroupRuleBehaviour(ctx: NetworkContext): ResourceBehaviour {
  return {
    def: securityGroupRuleDef,
    beforeList: (query, caller) => ensureDefaultForList(ctx, query, caller),
    alsoVisible: rulesInOwnGroups,
    // The owner of a group sees (and may delete) every rule in it, whoever added the rule.
    visibleTo: async (obj, caller) => (await getObj(ctx.db, securityGroupDef, String(obj.security_group_id)))?.project_id === caller.projectId,
    create: async (items, caller) => {
      const made = await transact(ctx, async (tx) => {
        await checkQuotaForItems(ctx, tx, items, 'security_group_rule', caller.projectId);
        return createRulesIn(ctx, tx, items, caller);
      });
      for (const r of made) ctx.notify('security_group_rule.create.end', { security_group_rule: r });
      ctx.changed('security_group', String(made[0]!.security_group_id));
      return made;
    },
    // Neutron has no rule update: its API answers 405 (a malformed body is a 400 first here).
    update: async () => { throw netFault(405, 'HTTPMethodNotAllowed', 'Security group rules cannot be updated.'); },
    remove: async (obj) => {
      const groupId = String(obj.security_group_id);
      await transact(ctx, async (tx) => {
        const group = await lockGroup(ctx, tx, groupId);
        if (!await deleteObj(tx, securityGroupRuleDef, obj.id)) throw securityGroupRuleDef.notFound(obj.id);
        if (group) await saveObj(tx, securityGroupDef, group);
      });
      ctx.notify('security_group_rule.delete.end', { security_group_rule_id: obj.id });
      ctx.changed('security_group', groupId);
    },
  };
}
