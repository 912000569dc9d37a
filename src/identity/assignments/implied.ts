import type { Identity } from '../identity.js';
import { conflict, forbidden, notFound } from '../../platform/http/faults.js';
import { isUniqueViolation } from '../../platform/db/connect.js';
import type { RoleRow } from '../store/schema.js';
import { requireRole, roleDomainId } from './refs.js';

/** Roles that may never be implied (Keystone's `[assignment] prohibited_implied_role` default). */
export const PROHIBITED_IMPLIED_ROLES: readonly string[] = ['admin'];

/** A role as inference bodies show it: id, name and self link. */
export const inferenceRole = (r: Pick<RoleRow, 'id' | 'name'>, base: string) => ({ id: r.id, links: { self: `${base}/roles/${r.id}` }, name: r.name });

/** Keystone's 404 for a missing implication rule. */
export const impliedNotFound = (prior: string, implied: string) => notFound(`${prior} does not imply ${implied}.`);

/**
 * Adds the rule "prior implies implied". Refused (403) when the implied role is prohibited
 * (admin) or when a global role would imply a domain-specific one; a domain-specific role may
 * imply any role. Cycles are not checked, as in Keystone; a repeated rule is a 409.
 */
export async function createImpliedRole(id: Identity, priorId: string, impliedId: string): Promise<void> {
  const implied = await requireRole(id, impliedId);
  const prior = await requireRole(id, priorId);
  // Keystone shows its InvalidImpliedRole template (not the detailed text) outside insecure_debug.
  if (PROHIBITED_IMPLIED_ROLES.includes(implied.name)) throw forbidden(`${impliedId} cannot be an implied roles.`);
  if (roleDomainId(prior) === null && roleDomainId(implied) !== null) throw forbidden(`${impliedId} cannot be an implied roles.`);
  const exists = await id.db.selectFrom('implied_role').select('prior_role_id')
    .where('prior_role_id', '=', priorId).where('implied_role_id', '=', impliedId).executeTakeFirst();
  const dup = conflict('Conflict occurred attempting to store implied_role - Duplicate entry.');
  if (exists) throw dup;
  try {
    await id.db.insertInto('implied_role').values({ prior_role_id: priorId, implied_role_id: impliedId }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw dup;
    throw err;
  }
  id.changed();
}

/** 404 unless the rule exists. */
export async function requireImpliedRole(id: Identity, priorId: string, impliedId: string): Promise<void> {
  const row = await id.db.selectFrom('implied_role').select('prior_role_id')
    .where('prior_role_id', '=', priorId).where('implied_role_id', '=', impliedId).executeTakeFirst();
  if (!row) throw impliedNotFound(priorId, impliedId);
}

/** Removes a rule; 404 when it does not exist. */
export async function deleteImpliedRole(id: Identity, priorId: string, impliedId: string): Promise<void> {
  await requireImpliedRole(id, priorId, impliedId);
  await id.db.deleteFrom('implied_role').where('prior_role_id', '=', priorId).where('implied_role_id', '=', impliedId).execute();
  id.changed();
}

/** The roles a role directly implies. */
export async function directlyImplied(id: Identity, priorId: string): Promise<RoleRow[]> {
  const rows = await id.db.selectFrom('implied_role').select('implied_role_id').where('prior_role_id', '=', priorId).execute();
  const out: RoleRow[] = [];
  for (const r of rows) out.push(await requireRole(id, r.implied_role_id));
  return out;
}

/** Every rule, grouped by prior role, in Keystone's `role_inferences` form. */
export async function listInferences(id: Identity, base: string): Promise<Record<string, unknown>[]> {
  const rules = await id.db.selectFrom('implied_role').selectAll().execute();
  const roles = new Map((await id.db.selectFrom('role').select(['id', 'name']).execute()).map((r) => [r.id, r]));
  const grouped = new Map<string, Record<string, unknown>[]>();
  for (const r of rules) {
    const implied = roles.get(r.implied_role_id);
    if (!implied || !roles.has(r.prior_role_id)) continue;
    grouped.set(r.prior_role_id, [...(grouped.get(r.prior_role_id) ?? []), inferenceRole(implied, base)]);
  }
  return [...grouped].map(([prior, implies]) => ({ prior_role: inferenceRole(roles.get(prior)!, base), implies }));
}
