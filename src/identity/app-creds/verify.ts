import { randomBytes } from 'node:crypto';
import { badRequest, unauthorized } from '../../platform/http/faults.js';
import type { Identity } from '../identity.js';
import type { AppCredentialRow } from '../store/schema.js';
import { effectiveRoles } from '../assignments/effective.js';
import { loadPrincipal, findDomainId } from '../auth/principals.js';
import { isExpired } from './expires-at.js';
import type { AccessRule } from './access-rules.js';
import { findAppCred, type AppCredential } from './store.js';

/** Keystone's generated secret: 64 random bytes, urlsafe base64 without padding (86 characters). */
export function generateAppCredSecret(): string {
  return randomBytes(64).toString('base64url');
}

/** The `application_credential` object of an auth request. */
export interface AppCredAuthRef {
  id?: string;
  name?: string;
  user?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
  secret: string;
}

/** What a verified application credential grants. */
export interface VerifiedAppCred {
  appCred: AppCredentialRow;
  /** Its roles the user still holds on its project now. */
  roles: { id: string; name: string }[];
  accessRules: AccessRule[];
}

async function resolveUserId(id: Identity, user: AppCredAuthRef['user']): Promise<string | undefined> {
  if (!user || typeof user !== 'object') return undefined;
  if (typeof user.id === 'string') return user.id;
  if (typeof user.name !== 'string') return undefined;
  const domainId = await findDomainId(id, user.domain);
  if (!domainId) return undefined;
  const row = await id.db.selectFrom('user_account').select('id').where('name', '=', user.name).where('domain_id', '=', domainId).executeTakeFirst();
  return row?.id;
}

/**
 * The roles an application-credential token carries: the credential's roles that the user
 * still has (effectively, implied roles included) on the credential's project right now.
 * Takes the credential or its id ([] for an unknown id).
 */
export async function appCredRolesStillHeld(id: Identity, credential: string | { row: AppCredentialRow; roleIds: readonly string[] }): Promise<{ id: string; name: string }[]> {
  const ac = typeof credential === 'string' ? await findAppCred(id, credential) : credential;
  if (!ac || !ac.row.project_id) return [];
  const held = await effectiveRoles(id, ac.row.user_id, { project: ac.row.project_id });
  const wanted = new Set(ac.roleIds);
  return held.filter((r) => wanted.has(r.id));
}

/**
 * Authenticates the `application_credential` auth method (by `id`, or by `name` with the owner's
 * `user` reference). 401 for an unknown credential, a wrong or missing secret, an expired
 * credential, or a missing/disabled owner (or owner domain); 400 when neither id nor name is given.
 */
export async function verifyApplicationCredential(id: Identity, ref: AppCredAuthRef): Promise<VerifiedAppCred> {
  if (!ref || typeof ref !== 'object') throw badRequest('Expecting to find id or name in application credential.');
  let ac: AppCredential | undefined;
  if (typeof ref.id === 'string' && ref.id) {
    ac = await findAppCred(id, ref.id);
    if (!ac) throw unauthorized();
    if (ref.user !== undefined) {
      const userId = await resolveUserId(id, ref.user);
      if (userId !== ac.row.user_id) throw unauthorized();
    }
  } else if (typeof ref.name === 'string' && ref.name) {
    const userId = await resolveUserId(id, ref.user);
    if (!userId) throw unauthorized();
    const row = await id.db.selectFrom('app_credential').select('id').where('user_id', '=', userId).where('name', '=', ref.name).executeTakeFirst();
    ac = row ? await findAppCred(id, row.id) : undefined;
    if (!ac) throw unauthorized();
  } else {
    throw badRequest('Expecting to find id or name in application credential. The server could not comply with the request since it '
      + 'is either malformed or otherwise incorrect. The client is assumed to be in error.');
  }
  const user = await loadPrincipal(id, ac.row.user_id);
  if (!user || !user.enabled || !user.domainEnabled) throw unauthorized();
  if (typeof ref.secret !== 'string' || !(await id.verifyPassword(ref.secret, ac.row.secret_hash))) throw unauthorized();
  if (isExpired(ac.row.expires_at)) throw unauthorized();
  return { appCred: ac.row, roles: await appCredRolesStillHeld(id, ac), accessRules: ac.accessRules };
}
