import type { Kysely } from 'kysely';
import { Fault, badRequest, notFound } from '../../platform/http/faults.js';
import { invalid } from '../api/validate.js';
import type { Identity } from '../identity.js';
import type { AccessRuleRow, IdentityDB } from '../store/schema.js';
import { newId } from '../util.js';

/** An access rule as the API shows it (before `links`). */
// A type alias (not an interface) so it fits listing.ts's Record-typed filters.
export type AccessRule = { id: string; service: string; path: string; method: string };

/** A requested access rule: an existing one by id, or a (service, path, method) triple. */
export type AccessRuleRef = { id: string } | { service: string; path: string; method: string };

const ID_STRING = /^[a-zA-Z0-9-]+$/;
const METHOD = /^(POST|GET|HEAD|PATCH|PUT|DELETE)$/;

/** Keystone's `access_rules` request schema; undefined when absent. */
export function accessRuleList(o: Record<string, unknown>, field = 'access_rules'): AccessRuleRef[] | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw invalid(field, `${JSON.stringify(v)} is not of type 'array'`);
  return v.map((item, i) => {
    const at = `${field}/${i}`;
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw invalid(at, `${JSON.stringify(item)} is not of type 'object'`);
    const r = item as Record<string, unknown>;
    for (const k of Object.keys(r)) {
      if (!['id', 'service', 'path', 'method'].includes(k)) throw invalid(at, `Additional properties are not allowed ('${k}' was unexpected)`);
    }
    if (r.path !== undefined && (typeof r.path !== 'string' || r.path.length > 225 || !r.path.startsWith('/'))) {
      throw invalid(`${at}/path`, `${JSON.stringify(r.path)} does not match '^\\/.*'`);
    }
    if (r.method !== undefined && (typeof r.method !== 'string' || !METHOD.test(r.method))) {
      throw invalid(`${at}/method`, `${JSON.stringify(r.method)} does not match '${METHOD.source}'`);
    }
    for (const k of ['service', 'id']) {
      const s = r[k];
      if (s !== undefined && (typeof s !== 'string' || s.length < 1 || s.length > 64 || !ID_STRING.test(s))) {
        throw invalid(`${at}/${k}`, `${JSON.stringify(s)} does not match '${ID_STRING.source}'`);
      }
    }
    if (typeof r.id === 'string') return { id: r.id };
    // Keystone would store a rule with missing parts; a rule must name all three to mean anything.
    if (typeof r.service !== 'string' || typeof r.path !== 'string' || typeof r.method !== 'string') {
      throw badRequest(`Invalid input for field '${at}': an access rule needs 'service', 'path' and 'method', or the 'id' of an existing rule.`);
    }
    return { service: r.service, path: r.path, method: r.method };
  });
}

/** Renders a row. */
export const accessRuleEntity = (r: AccessRuleRow): AccessRule => ({ id: r.id, service: r.service, path: r.path, method: r.method });

/**
 * The rule ids an application credential gets, inside the creating transaction: a rule by id must
 * be one of the user's own (404 otherwise; Keystone would accept anyone's); a triple reuses the
 * user's identical rule or creates one. Duplicates collapse.
 */
export async function resolveAccessRules(db: Kysely<IdentityDB>, userId: string, refs: readonly AccessRuleRef[]): Promise<AccessRule[]> {
  const out: AccessRule[] = [];
  for (const ref of refs) {
    let row: AccessRuleRow | undefined;
    if ('id' in ref) {
      row = await db.selectFrom('access_rule').selectAll().where('id', '=', ref.id).where('user_id', '=', userId).executeTakeFirst();
      if (!row) throw notFound(`Could not find Access Rule: ${ref.id}.`);
    } else {
      row = await db.selectFrom('access_rule').selectAll().where('user_id', '=', userId)
        .where('service', '=', ref.service).where('path', '=', ref.path).where('method', '=', ref.method).executeTakeFirst();
      if (!row) {
        row = { id: newId(), user_id: userId, service: ref.service, path: ref.path, method: ref.method };
        await db.insertInto('access_rule').values(row).execute();
      }
    }
    if (!out.some((r) => r.id === row!.id)) out.push(accessRuleEntity(row));
  }
  return out;
}

/** The access rules of one application credential. */
export async function accessRulesOf(db: Kysely<IdentityDB>, appCredId: string): Promise<AccessRule[]> {
  const rows = await db.selectFrom('app_credential_access_rule as l').innerJoin('access_rule as r', 'r.id', 'l.access_rule_id')
    .select(['r.id', 'r.service', 'r.path', 'r.method']).where('l.application_credential_id', '=', appCredId).orderBy('r.id').execute();
  return rows;
}

/** A user's access rules. */
export async function listAccessRules(id: Identity, userId: string): Promise<AccessRule[]> {
  const rows = await id.db.selectFrom('access_rule').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  return rows.map(accessRuleEntity);
}

/** One of the user's access rules; 404 "Could not find Access Rule: <id>." otherwise. */
export async function getAccessRule(id: Identity, userId: string, ruleId: string): Promise<AccessRule> {
  const row = await id.db.selectFrom('access_rule').selectAll().where('id', '=', ruleId).where('user_id', '=', userId).executeTakeFirst();
  if (!row) throw notFound(`Could not find Access Rule: ${ruleId}.`);
  return accessRuleEntity(row);
}

/** Deletes one of the user's access rules: 404 when unknown, 403 while an application credential uses it. */
export async function deleteAccessRule(id: Identity, userId: string, ruleId: string): Promise<void> {
  await getAccessRule(id, userId, ruleId);
  await id.db.transaction().execute(async (trx) => {
    const used = await trx.selectFrom('app_credential_access_rule').select('access_rule_id').where('access_rule_id', '=', ruleId).executeTakeFirst();
    if (used) throw new Fault(403, 'May not delete access rule in use', {}, 'Forbidden');
    await trx.deleteFrom('access_rule').where('id', '=', ruleId).execute();
  });
  id.notify('identity.access_rule.deleted', { resource_info: ruleId });
}

/** Deletes all of a user's access rules not in use (Keystone drops them with the user). */
export async function deleteAccessRulesForUser(db: Kysely<IdentityDB>, userId: string): Promise<void> {
  const rules = await db.selectFrom('access_rule').select('id').where('user_id', '=', userId).execute();
  if (rules.length === 0) return;
  const ids = rules.map((r) => r.id);
  await db.deleteFrom('app_credential_access_rule').where('access_rule_id', 'in', ids).execute();
  await db.deleteFrom('access_rule').where('id', 'in', ids).execute();
}
