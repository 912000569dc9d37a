/**
 * The identity service's tables. Conventions that keep one schema portable across SQLite,
 * PostgreSQL and MariaDB: ids are strings (32-hex uuids, as Keystone's), booleans are integers
 * 0/1, timestamps are ISO-8601 UTC strings with microseconds (they sort as text), and
 * free-form attributes are JSON text.
 */

/** Domains are projects with is_domain = 1 whose domain_id is this sentinel, as in Keystone. */
export const DOMAIN_ROOT = '<<keystone.domain.root>>';
/** domain_id of global roles (a real value, so the (name, domain_id) unique index works everywhere). */
export const NULL_DOMAIN = '<<null>>';

export interface ProjectRow {
  id: string; name: string; domain_id: string; description: string; enabled: number;
  parent_id: string | null; is_domain: number; extra: string; created_at: string;
}
export interface ProjectTagRow { project_id: string; name: string }
export interface UserRow {
  id: string; domain_id: string; name: string; enabled: number; default_project_id: string | null;
  description: string | null; email: string | null; extra: string; options: string; created_at: string;
  last_active_at: string | null; failed_auth_count: number; failed_auth_at: string | null;
}
export interface PasswordRow {
  id: string; user_id: string; hash: string; created_at: string; expires_at: string | null; self_service: number;
}
export interface GroupRow { id: string; domain_id: string; name: string; description: string; extra: string }
export interface MembershipRow { user_id: string; group_id: string }
export interface RoleRow { id: string; name: string; domain_id: string; description: string | null; options: string; extra: string }
export interface ImpliedRoleRow { prior_role_id: string; implied_role_id: string }
/** type: UserProject | GroupProject | UserDomain | GroupDomain | UserSystem | GroupSystem; target_id 'system' for the latter. */
export interface AssignmentRow { type: string; actor_id: string; target_id: string; role_id: string; inherited: number }
export interface RegionRow { id: string; description: string; parent_region_id: string | null; extra: string }
export interface ServiceRow { id: string; type: string; name: string | null; description: string | null; enabled: number; extra: string }
export interface EndpointRow {
  id: string; interface: string; service_id: string; url: string; region_id: string | null; enabled: number; extra: string;
}
export interface EndpointGroupRow { id: string; name: string; description: string | null; filters: string }
export interface ProjectEndpointGroupRow { endpoint_group_id: string; project_id: string }
export interface ProjectEndpointRow { endpoint_id: string; project_id: string }
export interface PolicyRow { id: string; type: string; blob: string; extra: string }
export interface CredentialRow {
  id: string; user_id: string; project_id: string | null; type: string; blob: string; key_hash: string | null; extra: string;
}
export interface AppCredentialRow {
  id: string; name: string; secret_hash: string; description: string | null; user_id: string; project_id: string | null;
  system: string | null; expires_at: string | null; unrestricted: number; created_at: string;
}
export interface AppCredentialRoleRow { application_credential_id: string; role_id: string }
export interface AccessRuleRow { id: string; user_id: string; service: string; path: string; method: string }
export interface AppCredentialAccessRuleRow { application_credential_id: string; access_rule_id: string }
export interface TrustRow {
  id: string; trustor_user_id: string; trustee_user_id: string; project_id: string | null; impersonation: number;
  deleted_at: string | null; expires_at: string | null; remaining_uses: number | null; redelegated_trust_id: string | null;
  redelegation_count: number | null; created_at: string; extra: string;
}
export interface TrustRoleRow { trust_id: string; role_id: string }
/** A revocation event: every token matching all of its non-null fields and issued before issued_before is revoked. */
export interface RevocationEventRow {
  id: string; domain_id: string | null; project_id: string | null; user_id: string | null; role_id: string | null;
  trust_id: string | null; consumer_id: string | null; access_token_id: string | null; audit_id: string | null;
  audit_chain_id: string | null; expires_at: string | null; issued_before: string; revoked_at: string;
}
export interface DomainConfigRow { domain_id: string; group_name: string; option_name: string; value: string; sensitive: number }
/** Public ids of users and groups that live in an LDAP-backed domain. */
export interface IdMappingRow { public_id: string; domain_id: string; local_id: string; entity_type: string }
export interface OAuthConsumerRow { id: string; description: string | null; secret_hash: string; extra: string }

/** The identity database, for Kysely. */
export interface IdentityDB {
  project: ProjectRow;
  project_tag: ProjectTagRow;
  user_account: UserRow;
  user_password: PasswordRow;
  user_group: GroupRow;
  group_membership: MembershipRow;
  role: RoleRow;
  implied_role: ImpliedRoleRow;
  assignment: AssignmentRow;
  region: RegionRow;
  catalog_service: ServiceRow;
  endpoint: EndpointRow;
  endpoint_group: EndpointGroupRow;
  project_endpoint_group: ProjectEndpointGroupRow;
  project_endpoint: ProjectEndpointRow;
  policy_blob: PolicyRow;
  credential: CredentialRow;
  app_credential: AppCredentialRow;
  app_credential_role: AppCredentialRoleRow;
  access_rule: AccessRuleRow;
  app_credential_access_rule: AppCredentialAccessRuleRow;
  trust: TrustRow;
  trust_role: TrustRoleRow;
  revocation_event: RevocationEventRow;
  domain_config: DomainConfigRow;
  id_mapping: IdMappingRow;
  oauth_consumer: OAuthConsumerRow;
}
