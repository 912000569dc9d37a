import { forbidden } from '../../platform/http/faults.js';
import type { LdapGroup, LdapUser } from './backend.js';

/**
 * A directory user as Keystone's API shows it (no links): the LDAP driver's attributes, empty
 * options and no password expiry.
 */
export function ldapUserRef(u: LdapUser): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: u.publicId, name: u.name, domain_id: u.domainId, enabled: u.enabled, password_expires_at: null, options: {},
  };
  if (u.email !== undefined) out.email = u.email;
  if (u.description !== undefined) out.description = u.description;
  if (u.defaultProjectId !== undefined) out.default_project_id = u.defaultProjectId;
  return out;
}

/** A directory group as Keystone's API shows it (no links). */
export function ldapGroupRef(g: LdapGroup): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.publicId, name: g.name, domain_id: g.domainId };
  if (g.description !== undefined) out.description = g.description;
  return out;
}

/**
 * Keystone's answer to any write on a read-only LDAP backend (Forbidden with
 * READ_ONLY_LDAP_ERROR_MESSAGE; Keystone shows the detail only in insecure_debug mode, Nephos
 * always does, so clients learn why).
 */
export const readOnlyLdap = () => forbidden('LDAP does not support write operations');

/** Keystone's CrossBackendNotAllowed: memberships between an SQL and an LDAP entity. */
export const crossBackend = (groupId: string, userId: string) =>
  forbidden(`Group membership across backend boundaries is not allowed. Group in question is ${groupId}, user is ${userId}.`);
