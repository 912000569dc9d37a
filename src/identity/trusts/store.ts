import { badRequest, forbidden, notFound } from '../../platform/http/faults.js';
import type { Identity } from '../identity.js';
import type { TrustRow } from '../store/schema.js';
import { bool, int, isoTime, newId } from '../util.js';
import { loadPrincipal } from '../auth/principals.js';
import { compareStored, isExpired } from '../app-creds/expires-at.js';

/** Keystone's `[trust] max_redelegation_count` default (Nephos has no option for it yet). */
export const MAX_REDELEGATION_COUNT = 3;

/** A trust with its delegated role ids (in the order they were given). */
export interface Trust { row: TrustRow; roleIds: string[] }

/** The attributes a trust stores in columns or derives; anything else a request sends is kept in `extra`. */
export const TRUST_ATTRIBUTES = [
  'id', 'trustor_user_id', 'trustee_user_id', 'project_id', 'impersonation', 'deleted_at', 'expires_at', 'remaining_uses',
  'redelegated_trust_id', 'redelegation_count', 'roles', 'allow_redelegation', 'links', 'roles_links',
] as const;

const trustNotFound = (trustId: string) => notFound(`Could not find trust: ${trustId}.`);

async function roleIdsOf(id: Identity, trustId: string): Promise<string[]> {
  const rows = await id.db.selectFrom('trust_role').select('role_id').where('trust_id', '=', trustId).execute();
  return rows.map((r) => r.role_id);
}

/**
 * Keystone's trust driver `get_trust`: a trust that is deleted, expired or out of uses is
 * "Could not find trust" (404). `allowExhausted` accepts a trust whose last use is spent (for
 * validating the token that spent it).
 */
export async function getLiveTrust(id: Identity, trustId: string, allowExhausted = false): Promise<Trust> {
  const row = await id.db.selectFrom('trust').selectAll().where('id', '=', trustId).where('deleted_at', 'is', null).executeTakeFirst();
  const exhausted = row?.remaining_uses !== null && row?.remaining_uses !== undefined && row.remaining_uses <= 0;
  if (!row || isExpired(row.expires_at) || (exhausted && !allowExhausted)) throw trustNotFound(trustId);
  return { row, roleIds: await roleIdsOf(id, trustId) };
}

/** The chain from a trust up through the trusts it was redelegated from: [trust, parent, …]. 404 when a link is gone. */
export async function trustPedigree(id: Identity, trustId: string, allowExhausted = false): Promise<Trust[]> {
  const chain = [await getLiveTrust(id, trustId, allowExhausted)];
  while (chain[chain.length - 1].row.redelegated_trust_id && chain.length <= MAX_REDELEGATION_COUNT + 1) {
    chain.push(await getLiveTrust(id, chain[chain.length - 1].row.redelegated_trust_id!));
  }
  return chain;
}

/** The parts of a trust that redelegation rules look at. */
export interface DelegationTerms {
  expires_at: string | null;
  remaining_uses: number | null;
  impersonation: boolean;
  roleIds: readonly string[];
}

/**
 * Keystone's `_validate_redelegation`: the parent must have redelegation depth left
 * (0 < count ≤ max); the child may not limit uses, outlive the parent, widen the roles, or
 * impersonate when the parent does not. 403 otherwise. A child without expiry inherits the
 * parent's (returned).
 */
export function checkRedelegation(parent: Trust, child: DelegationTerms): string | null {
  const depth = parent.row.redelegation_count ?? 0;
  if (!(depth > 0 && depth <= MAX_REDELEGATION_COUNT)) throw forbidden();
  if (child.remaining_uses !== null) throw forbidden();
  let expires = child.expires_at;
  if (expires) {
    if (parent.row.expires_at && compareStored(parent.row.expires_at, expires) < 0) throw forbidden();
  } else expires = parent.row.expires_at;
  if (!child.roleIds.every((r) => parent.roleIds.includes(r))) throw forbidden();
  if (!bool(parent.row.impersonation) && child.impersonation) throw forbidden();
  return expires;
}

/**
 * Keystone's trust manager `get_trust`: a live trust whose redelegation chain is still valid and
 * whose intermediate trustees are all enabled (403 otherwise; 404 for a gone trust or parent).
 * `allowExhausted` as for {@link getLiveTrust} (parents never carry use limits).
 */
export async function getTrust(id: Identity, trustId: string, allowExhausted = false): Promise<Trust> {
  const trust = await getLiveTrust(id, trustId, allowExhausted);
  if (!trust.row.redelegated_trust_id) return trust;
  const chain = await trustPedigree(id, trustId, allowExhausted);
  for (let i = 1; i < chain.length; i++) {
    const child = chain[i - 1];
    checkRedelegation(chain[i], {
      expires_at: child.row.expires_at, remaining_uses: child.row.remaining_uses, impersonation: bool(child.row.impersonation), roleIds: child.roleIds,
    });
    const agent = await loadPrincipal(id, chain[i].row.trustee_user_id);
    if (!agent || !agent.enabled) throw forbidden();
  }
  return trust;
}

/** A validated trust request, as the API hands it over. */
export interface NewTrust {
  trustorUserId: string;
  trusteeUserId: string;
  projectId: string | null;
  impersonation: boolean;
  expiresAt: string | null;
  remainingUses: number | null;
  allowRedelegation: boolean;
  /** undefined: not given. */
  redelegationCount: number | null | undefined;
  roleIds: string[];
  extra: Record<string, unknown>;
}

/**
 * Keystone's trust manager `create_trust`: redelegation depth (only trusts allowing
 * redelegation carry a count, at most {@link MAX_REDELEGATION_COUNT}; they may not limit uses),
 * and for a trust made with a trust-scoped token, the parent chain's limits.
 */
export async function createTrust(id: Identity, t: NewTrust, parent?: Trust): Promise<Trust> {
  const requested = t.redelegationCount;
  const redelegatable = t.allowRedelegation && requested !== 0;
  let count: number | null = requested ?? null;
  if (!redelegatable) {
    count = 0;
  } else {
    if (requested && requested > MAX_REDELEGATION_COUNT) throw forbidden();
    if (t.remainingUses !== null) throw badRequest('remaining_uses must not be set if redelegation is allowed');
  }
  let expiresAt = t.expiresAt;
  if (parent) {
    const remaining = (parent.row.redelegation_count ?? 0) - 1;
    if (redelegatable && requested && requested !== remaining) throw forbidden();
    if (redelegatable && (requested === undefined || requested === null)) count = remaining;
    const terms: DelegationTerms = { expires_at: expiresAt, remaining_uses: t.remainingUses, impersonation: t.impersonation, roleIds: t.roleIds };
    for (const ancestor of await trustPedigree(id, parent.row.id)) {
      terms.expires_at = checkRedelegation(ancestor, terms);
    }
    expiresAt = terms.expires_at;
  }
  if (count === null) count = MAX_REDELEGATION_COUNT;
  const row: TrustRow = {
    id: newId(), trustor_user_id: t.trustorUserId, trustee_user_id: t.trusteeUserId, project_id: t.projectId,
    impersonation: int(t.impersonation), deleted_at: null, expires_at: expiresAt, remaining_uses: t.remainingUses,
    redelegated_trust_id: parent?.row.id ?? null, redelegation_count: count, created_at: isoTime(), extra: JSON.stringify(t.extra),
  };
  const roleIds = [...new Set(t.roleIds)];
  await id.db.transaction().execute(async (trx) => {
    await trx.insertInto('trust').values(row).execute();
    if (roleIds.length) await trx.insertInto('trust_role').values(roleIds.map((role_id) => ({ trust_id: row.id, role_id }))).execute();
  });
  id.notify('identity.OS-TRUST:trust.created', { resource_info: row.id });
  return { row, roleIds };
}

/** Non-deleted trusts, optionally of one trustor or trustee (expired ones included, as Keystone lists them). */
export function listTrustRows(id: Identity, filter: { trustor_user_id?: string; trustee_user_id?: string } = {}): Promise<TrustRow[]> {
  let q = id.db.selectFrom('trust').selectAll().where('deleted_at', 'is', null);
  if (filter.trustor_user_id !== undefined) q = q.where('trustor_user_id', '=', filter.trustor_user_id);
  if (filter.trustee_user_id !== undefined) q = q.where('trustee_user_id', '=', filter.trustee_user_id);
  return q.orderBy('created_at').orderBy('id').execute();
}

/**
 * Deletes a live trust (404 otherwise) and, first, every trust redelegated from it; each one's
 * tokens are revoked by a `trust_id` revocation event.
 */
export async function deleteTrust(id: Identity, trustId: string): Promise<void> {
  await getLiveTrust(id, trustId);
  await softDeleteTree(id, trustId, 0);
}

async function softDeleteTree(id: Identity, trustId: string, depth: number): Promise<void> {
  if (depth <= MAX_REDELEGATION_COUNT + 1) {
    const children = await id.db.selectFrom('trust').select('id').where('redelegated_trust_id', '=', trustId).where('deleted_at', 'is', null).execute();
    for (const c of children) await softDeleteTree(id, c.id, depth + 1);
  }
  const res = await id.db.updateTable('trust').set({ deleted_at: isoTime() }).where('id', '=', trustId).where('deleted_at', 'is', null).executeTakeFirst();
  if (Number(res.numUpdatedRows) > 0) {
    await id.revoke({ trust_id: trustId });
    id.notify('identity.OS-TRUST:trust.deleted', { resource_info: trustId });
  }
}

/** Deletes every trust a user is trustor or trustee of (Keystone does so when the user is deleted). */
export async function deleteTrustsForUser(id: Identity, userId: string): Promise<void> {
  const rows = await id.db.selectFrom('trust').select('id').where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('trustor_user_id', '=', userId), eb('trustee_user_id', '=', userId)])).execute();
  for (const r of rows) await softDeleteTree(id, r.id, 0);
  if (rows.length) id.changed();
}

/** Deletes every trust on a project (Keystone does so when the project is deleted). */
export async function deleteTrustsForProject(id: Identity, projectId: string): Promise<void> {
  const rows = await id.db.selectFrom('trust').select('id').where('deleted_at', 'is', null).where('project_id', '=', projectId).execute();
  for (const r of rows) await softDeleteTree(id, r.id, 0);
  if (rows.length) id.changed();
}
