import type { PolicyCredentials } from '../policy/types.js';

/** One endpoint of a service in a token's catalog (Keystone v3 shape). */
export interface CatalogEndpoint {
  readonly id?: string;
  readonly interface: string;
  readonly region: string | null;
  readonly region_id?: string | null;
  readonly url: string;
}

/** One service of a token's catalog (Keystone v3 shape). */
export interface CatalogService {
  readonly id?: string;
  readonly type: string;
  readonly name: string;
  readonly endpoints: readonly CatalogEndpoint[];
}

/** A token's service catalog, as Keystone returns it with the token. */
export type ServiceCatalog = readonly CatalogService[];

/** An application credential's access rule: which request the credential's tokens may make. */
export interface AccessRule {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly id?: string;
}

/**
 * What validating a token proves about its bearer, independent of any request: the user, the
 * scope (at most one of project / domain / system), the roles and the token's lifetime.
 */
export interface ValidatedToken {
  readonly token: string;
  readonly userId: string;
  readonly userName: string;
  readonly userDomainId: string;
  readonly userDomainName: string;
  readonly projectId?: string;
  readonly projectName?: string;
  readonly projectDomainId?: string;
  readonly projectDomainName?: string;
  readonly domainId?: string;
  readonly domainName?: string;
  readonly systemScope?: 'all';
  /** Role names, lowercased (oslo.policy compares role names case-insensitively). */
  readonly roles: readonly string[];
  /** Role ids, in the same order as `roles`. */
  readonly roleIds: readonly string[];
  /** Whether the token carries the `admin` role. */
  readonly isAdmin: boolean;
  /** Keystone's `is_admin_project`; true when Keystone does not say (as keystonemiddleware). */
  readonly isAdminProject: boolean;
  readonly expiresAt: Date;
  readonly issuedAt?: Date;
  readonly auditIds: readonly string[];
  readonly methods: readonly string[];
  readonly serviceCatalog?: ServiceCatalog;
  readonly appCredId?: string;
  /** The application credential's access rules; absent for unrestricted tokens. */
  readonly accessRules?: readonly AccessRule[];
  readonly trustId?: string;
}

/** What a handler sees about the caller of an authenticated request (`req.auth`). */
export interface RequestContext extends ValidatedToken {
  /** The request's id (the `x-openstack-request-id` the server sends back). */
  readonly requestId: string;
}

/**
 * The caller as oslo.policy credentials, in the shape oslo.context's `to_policy_values()` gives
 * services (plus `is_admin`, which Nova, Cinder and Neutron derive from the admin role), so the
 * platform `Enforcer` evaluates the services' rules as their Python originals do.
 */
export function policyCreds(ctx: ValidatedToken): PolicyCredentials {
  return {
    user_id: ctx.userId,
    user_domain_id: ctx.userDomainId,
    project_id: ctx.projectId ?? null,
    project_domain_id: ctx.projectDomainId ?? null,
    domain_id: ctx.domainId ?? null,
    system_scope: ctx.systemScope ?? null,
    roles: [...ctx.roles],
    is_admin_project: ctx.isAdminProject,
    is_admin: ctx.isAdmin,
  };
}
