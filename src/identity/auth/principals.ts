import type { Identity } from '../identity.js';
import { memo } from '../assignments/effective.js';
import { bool } from '../util.js';
import { ldapPrincipal } from '../ldap/auth.js';

/** A user as tokens need it: names for the body, flags for validity. */
export interface Principal {
  readonly id: string;
  readonly name: string;
  readonly domainId: string;
  readonly domainName: string;
  readonly enabled: boolean;
  readonly domainEnabled: boolean;
  readonly passwordExpiresAt: string | null;
}

/** A project or domain as tokens need it. */
export interface ScopeTarget {
  readonly id: string;
  readonly name: string;
  readonly domainId: string;
  readonly domainName: string;
  readonly enabled: boolean;
  readonly domainEnabled: boolean;
  readonly isDomain: boolean;
}

/** Loads a user, SQL or LDAP (cached until the next identity write). Undefined when it does not exist. */
export function loadPrincipal(id: Identity, userId: string): Promise<Principal | undefined> {
  return memo(id, `principal:${userId}`, async () => {
    const u = await id.db.selectFrom('user_account').select(['id', 'name', 'domain_id', 'enabled']).where('id', '=', userId).executeTakeFirst();
    if (!u) return ldapPrincipal(id, userId);
    const d = await id.db.selectFrom('project').select(['name', 'enabled']).where('id', '=', u.domain_id).executeTakeFirst();
    const pw = await id.db.selectFrom('user_password').select('expires_at').where('user_id', '=', userId)
      .orderBy('created_at', 'desc').limit(1).executeTakeFirst();
    return {
      id: u.id, name: u.name, domainId: u.domain_id, domainName: d?.name ?? u.domain_id, enabled: bool(u.enabled),
      domainEnabled: d ? bool(d.enabled) : false, passwordExpiresAt: pw?.expires_at ?? null,
    };
  });
}

/** Loads a project or domain by id (cached until the next identity write). */
export function loadScopeTarget(id: Identity, projectId: string): Promise<ScopeTarget | undefined> {
  return memo(id, `scope:${projectId}`, async () => {
    const p = await id.db.selectFrom('project').select(['id', 'name', 'domain_id', 'enabled', 'is_domain']).where('id', '=', projectId).executeTakeFirst();
    if (!p) return undefined;
    if (bool(p.is_domain)) {
      return { id: p.id, name: p.name, domainId: p.id, domainName: p.name, enabled: bool(p.enabled), domainEnabled: bool(p.enabled), isDomain: true };
    }
    const d = await id.db.selectFrom('project').select(['name', 'enabled']).where('id', '=', p.domain_id).executeTakeFirst();
    return {
      id: p.id, name: p.name, domainId: p.domain_id, domainName: d?.name ?? p.domain_id, enabled: bool(p.enabled),
      domainEnabled: d ? bool(d.enabled) : false, isDomain: false,
    };
  });
}

/** Resolves `{id}` or `{name, domain: {id|name}}` references of domains. */
export async function findDomainId(id: Identity, ref: unknown): Promise<string | undefined> {
  if (!ref || typeof ref !== 'object') return undefined;
  const r = ref as { id?: unknown; name?: unknown };
  if (typeof r.id === 'string') {
    const d = await id.db.selectFrom('project').select('id').where('id', '=', r.id).where('is_domain', '=', 1).executeTakeFirst();
    return d?.id;
  }
  if (typeof r.name === 'string') {
    const d = await id.db.selectFrom('project').select('id').where('name', '=', r.name).where('is_domain', '=', 1).executeTakeFirst();
    return d?.id;
  }
  return undefined;
}
