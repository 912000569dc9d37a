import { sql } from 'kysely';
import { forbidden, notFound } from '../../platform/http/faults.js';
import type { Identity } from '../identity.js';
import type { TrustRow } from '../store/schema.js';
import { NULL_DOMAIN } from '../store/schema.js';
import { assignedRoleIds, expandImplied } from '../assignments/effective.js';
import { loadPrincipal } from '../auth/principals.js';
import { getTrust, trustPedigree } from './store.js';

/**
 * The trust behind a trust-scoped token, checked as Keystone checks it when issuing and
 * validating such tokens:
 * - 404 "Could not find trust" when it is deleted, expired or out of uses (or a parent is);
 * - 403 when its redelegation chain is no longer valid, `trusteeUserId` (when given) is not
 *   its trustee, the trustor is disabled, or the original trustor no longer holds every
 *   delegated role (implied roles included) on the project;
 * - 404 when the trustor or trustee is gone or their domain is disabled.
 * Returns the roles a token gets: the delegated roles and the roles they imply, global ones only.
 *
 * Issuing passes the authenticating user as `trusteeUserId`; validating an existing token passes
 * undefined, which also accepts a trust whose last use was spent (on that token) — unless
 * `opts.allowExhausted` says otherwise.
 */
export async function getUsableTrust(id: Identity, trustId: string, trusteeUserId: string | undefined,
  opts: { allowExhausted?: boolean } = {}): Promise<{ trust: TrustRow; roles: { id: string; name: string }[] }> {
  const allowExhausted = opts.allowExhausted ?? trusteeUserId === undefined;
  const trust = await getTrust(id, trustId, allowExhausted);
  const row = trust.row;
  if (trusteeUserId !== undefined && trusteeUserId !== row.trustee_user_id) throw forbidden();
  const trustor = await loadPrincipal(id, row.trustor_user_id);
  if (!trustor) throw notFound(`Could not find user: ${row.trustor_user_id}.`);
  if (!trustor.domainEnabled) throw notFound('Trustor domain is disabled.');
  if (!trustor.enabled) throw forbidden();
  const trustee = await loadPrincipal(id, row.trustee_user_id);
  if (!trustee) throw notFound(`Could not find user: ${row.trustee_user_id}.`);
  if (!trustee.domainEnabled) throw notFound('Trustee domain is disabled.');

  if (trust.roleIds.length === 0) return { trust: row, roles: [] };
  if (!row.project_id) throw forbidden();
  const chain = row.redelegated_trust_id ? await trustPedigree(id, trustId, allowExhausted) : [trust];
  const originalTrustor = chain[chain.length - 1].row.trustor_user_id;
  const delegated = await expandImplied(id, trust.roleIds, false);
  const held = new Set((await expandImplied(id, await assignedRoleIds(id, originalTrustor, { project: row.project_id }), false)).map((r) => r.id));
  if (!delegated.every((r) => held.has(r.id))) throw forbidden();
  return { trust: row, roles: delegated.filter((r) => r.domain_id === NULL_DOMAIN).map((r) => ({ id: r.id, name: r.name })) };
}

/**
 * Uses up one of a limited trust's remaining uses, atomically: one conditional UPDATE, so
 * concurrent token requests can never drive `remaining_uses` below 0. Unlimited trusts are left
 * alone; a trust out of uses is 403 "No remaining uses for trust"; a deleted or unknown one 404.
 */
export async function consumeTrustUse(id: Identity, trustId: string): Promise<void> {
  const res = await id.db.updateTable('trust')
    .set({ remaining_uses: sql<number>`remaining_uses - 1` })
    .where('id', '=', trustId).where('deleted_at', 'is', null)
    .where('remaining_uses', 'is not', null).where('remaining_uses', '>', 0)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 1) {
    id.changed();
    return;
  }
  const row = await id.db.selectFrom('trust').select(['remaining_uses']).where('id', '=', trustId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw notFound(`Could not find trust: ${trustId}.`);
  if (row.remaining_uses === null) return;
  throw forbidden(`No remaining uses for trust: ${trustId}.`);
}
