import type { Identity } from '../identity.js';
import type { ExternalPasswordCheck } from '../auth/password.js';
import type { Principal } from '../auth/principals.js';
import { unauthorized } from '../../platform/http/faults.js';
import { bool } from '../util.js';
import { ldapDomains, type LdapUser } from './backend.js';
import { bindAs } from './connection.js';

/**
 * Checks a password of an LDAP user: Keystone's LDAP `authenticate`, a simple bind as the user's
 * DN on a short-lived connection. False for a wrong password, an empty one, or a directory that
 * cannot be reached for the bind (Keystone turns every bind failure into "invalid user/password").
 */
export async function checkLdapPassword(id: Identity, user: LdapUser, password: string): Promise<boolean> {
  const d = await ldapDomains(id).directory(user.domainId);
  if (!d) return false;
  try {
    return await bindAs(d.dir.settings, user.dn, password);
  } catch (e) {
    ldapDomains(id).unavailable(e);
    return false;
  }
}

/**
 * The `password` method's hook for LDAP-backed domains: finds the user by public id, or by name
 * in the given domain, and binds as it. Undefined when the user is not a directory user (the
 * caller then answers 401); 401 for a wrong password.
 */
export function ldapPasswordCheck(id: Identity): ExternalPasswordCheck {
  return async (domainId, ref, password) => {
    const l = ldapDomains(id);
    if (!(await l.domainIds()).length) return undefined;
    let user: LdapUser | undefined;
    if (ref.id !== undefined) user = await l.getUser(ref.id);
    else if (ref.name !== undefined && domainId !== undefined) user = await l.getUserByName(domainId, ref.name);
    if (!user) return undefined;
    if (!(await checkLdapPassword(id, user, password))) throw unauthorized();
    return user.publicId;
  };
}

/** An LDAP user as token issue and validation need it; undefined when the id is not a directory user's. */
export async function ldapPrincipal(id: Identity, userId: string): Promise<Principal | undefined> {
  const l = ldapDomains(id);
  if (!(await l.domainIds()).length) return undefined;
  const u = await l.getUser(userId);
  if (!u) return undefined;
  const d = await id.db.selectFrom('project').select(['name', 'enabled']).where('id', '=', u.domainId).executeTakeFirst();
  return {
    id: u.publicId, name: u.name, domainId: u.domainId, domainName: d?.name ?? u.domainId, enabled: u.enabled,
    domainEnabled: d ? bool(d.enabled) : false, passwordExpiresAt: null,
  };
}

/** Public ids of the directory groups an LDAP user belongs to ([] for anyone else). */
export async function ldapGroupIdsOf(id: Identity, userId: string): Promise<string[]> {
  const l = ldapDomains(id);
  if (!(await l.domainIds()).length) return [];
  const u = await l.getUser(userId);
  return u ? (await l.groupsOf(u)).map((g) => g.publicId) : [];
}

/** Public ids of an LDAP group's members ([] for anything else). */
export async function ldapMemberIdsOf(id: Identity, groupId: string): Promise<string[]> {
  const l = ldapDomains(id);
  if (!(await l.domainIds()).length) return [];
  const g = await l.getGroup(groupId);
  return g ? (await l.membersOf(g)).map((u) => u.publicId) : [];
}
