/** The caller of a request, as proven by its X-Auth-Token (or the token being validated). */
export interface TokenContext {
  readonly token: string;
  readonly userId: string;
  readonly userName: string;
  readonly userDomainId: string;
  readonly userDomainName: string;
  readonly methods: readonly string[];
  readonly auditIds: readonly string[];
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** Exactly one of project / domain / system is set for a scoped token; none for unscoped. */
  readonly project?: { readonly id: string; readonly name: string; readonly domainId: string; readonly domainName: string; readonly isDomain: boolean };
  readonly domain?: { readonly id: string; readonly name: string };
  readonly system?: 'all';
  /** Effective roles of the token (implied roles expanded; domain-specific roles left out, as Keystone). */
  readonly roles: readonly { readonly id: string; readonly name: string }[];
  readonly trust?: { readonly id: string; readonly trustorUserId: string; readonly trusteeUserId: string; readonly impersonation: boolean };
  readonly appCred?: { readonly id: string; readonly name: string; readonly unrestricted: boolean; readonly accessRules?: readonly { id: string; service: string; path: string; method: string }[] };
  readonly passwordExpiresAt?: string | null;
}

/** Policy credentials (oslo.policy's `creds`) derived from a token. */
export function policyCreds(t: TokenContext): Record<string, unknown> {
  return {
    user_id: t.userId,
    user_domain_id: t.userDomainId,
    project_id: t.project?.id ?? null,
    project_domain_id: t.project?.domainId ?? null,
    domain_id: t.domain?.id ?? null,
    system_scope: t.system ?? null,
    roles: t.roles.map((r) => r.name),
    is_admin_project: true,
    trust_id: t.trust?.id,
    // Keystone's rules also read the token itself, e.g. token.project.domain.id.
    token: {
      user: { id: t.userId, domain: { id: t.userDomainId } },
      ...(t.project ? { project: { id: t.project.id, domain: { id: t.project.domainId } } } : {}),
      ...(t.domain ? { domain: { id: t.domain.id } } : {}),
      is_admin_project: true,
    },
  };
}
