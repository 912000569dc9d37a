import type { FastifyRequest } from 'fastify';
import type { TokenContext } from '../context.js';
import type { Identity } from '../identity.js';
import { applyFilters } from '../api/listing.js';
import { passwordExpiries } from './passwords.js';
import { applyLimit, expiryMatches, filterBool, inexact, parseExpiryFilter } from './query.js';
import { renderUsers } from './user-ops.js';
import { listLdapUsers } from '../ldap/api.js';

/** Filters Keystone accepts when listing users. */
export const USER_FILTERS = ['domain_id', 'enabled', 'idp_id', 'name', 'protocol_id', 'unique_id', 'password_expires_at'];
/** Filters of GET /v3/groups/{id}/users. */
export const GROUP_USER_FILTERS = ['domain_id', 'enabled', 'name', 'password_expires_at'];

/**
 * Lists users (all, or the members of `groupId`) with Keystone's filters: exact `domain_id`,
 * `name`, `enabled`; `password_expires_at` with operators; the inexact `attr__op` forms;
 * federated filters (no federated users here, so nothing matches); a domain-scoped token sees
 * its domain only; an LDAP-backed domain (or group) is listed from its directory. Returns
 * rendered users and whether the list limit truncated them.
 */
export async function listUsers(id: Identity, req: FastifyRequest, ctx: TokenContext, q: Record<string, string>, groupId?: string)
  : Promise<{ items: Record<string, unknown>[]; truncated: boolean }> {
  const expiry = 'password_expires_at' in q ? parseExpiryFilter(q.password_expires_at) : undefined;
  if (groupId === undefined && ['idp_id', 'protocol_id', 'unique_id'].some((k) => k in q)) return { items: [], truncated: false };
  const ldap = await listLdapUsers(id, req, ctx, q, groupId);
  if (ldap) return ldap;
  let query = id.db.selectFrom('user_account').selectAll('user_account');
  if (groupId !== undefined) {
    query = query.innerJoin('group_membership', 'group_membership.user_id', 'user_account.id').where('group_membership.group_id', '=', groupId);
  }
  if ('domain_id' in q) query = query.where('user_account.domain_id', '=', q.domain_id);
  if ('name' in q) query = query.where('user_account.name', '=', q.name);
  if ('enabled' in q) query = query.where('user_account.enabled', '=', filterBool(q.enabled) ? 1 : 0);
  let rows = await query.orderBy('user_account.name').execute();
  if (ctx.domain) rows = rows.filter((r) => r.domain_id === ctx.domain!.id);
  if (expiry) {
    const expiries = await passwordExpiries(id.db, rows.map((r) => r.id));
    rows = rows.filter((r) => expiryMatches(expiry, expiries.get(r.id) ?? null));
  }
  const items = applyFilters(await renderUsers(id, req, rows), inexact(q), ['name', 'domain_id']);
  return applyLimit(id, items);
}
