import type { TokenContext } from '../context.js';
import type { CatalogEntry } from '../catalog/build.js';
import { isoTime } from '../util.js';

/** Keystone's token body for a validated or new token. */
export function tokenBody(t: TokenContext, catalog: CatalogEntry[] | undefined): { token: Record<string, unknown> } {
  const token: Record<string, unknown> = {
    methods: t.methods,
    user: {
      id: t.userId, name: t.userName, domain: { id: t.userDomainId, name: t.userDomainName },
      password_expires_at: t.passwordExpiresAt ?? null,
    },
    audit_ids: t.auditIds,
    expires_at: isoTime(t.expiresAt),
    issued_at: isoTime(t.issuedAt),
  };
  if (t.project) {
    token.project = { id: t.project.id, name: t.project.name, domain: { id: t.project.domainId, name: t.project.domainName } };
    token.is_domain = t.project.isDomain;
  }
  if (t.domain) token.domain = { id: t.domain.id, name: t.domain.name };
  if (t.system) token.system = { all: true };
  if (t.project || t.domain || t.system) {
    token.roles = t.roles.map((r) => ({ id: r.id, name: r.name }));
    if (catalog) token.catalog = catalog;
  }
  if (t.trust) {
    token['OS-TRUST:trust'] = {
      id: t.trust.id, impersonation: t.trust.impersonation,
      trustor_user: { id: t.trust.trustorUserId }, trustee_user: { id: t.trust.trusteeUserId },
    };
  }
  if (t.appCred) {
    const ac: Record<string, unknown> = { id: t.appCred.id, name: t.appCred.name, restricted: !t.appCred.unrestricted };
    if (t.appCred.accessRules) ac.access_rules = t.appCred.accessRules;
    token.application_credential = ac;
  }
  return { token };
}
