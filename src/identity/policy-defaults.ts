/**
 * Default policy of the identity v3 API, as Keystone Zed ships it
 * (keystone/common/policies/*.py at the zed release), in oslo.policy syntax.
 *
 * Effective behaviour. Keystone Zed runs oslo.policy with
 * `enforce_scope=False` and `enforce_new_defaults=False`. Under those
 * settings oslo does not check a rule's scope types, and for every rule that
 * carries a deprecated rule with a different check string (and that the
 * operator has not overridden) it enforces `(new default) or (deprecated
 * rule)`. Most deprecated rules are `rule:admin_required`
 * (`role:admin or is_admin:1`), so a token holding the `admin` role on any
 * project is a cloud administrator for almost every API, which is what
 * tempest and the `openstack` CLI expect. The exceptions are the rules that
 * never had a deprecated form, e.g. creating/updating/deleting limits and
 * registered limits, which need a system-scoped admin
 * (`role:admin and system_scope:all`).
 *
 * {@link identityPolicyDefaults} is that effective table; an override from a
 * policy file replaces the whole entry, as in oslo. The persona building
 * blocks: `role:reader`/`role:member`/`role:admin` (admin implies member
 * implies reader through Keystone's implied roles, so tokens carry all three),
 * combined with `system_scope:all` for system personas and
 * `domain_id:%(target....domain_id)s` for domain personas.
 */

const ADMIN_REQUIRED = 'rule:admin_required';
const ADMIN_OR_OWNER = 'rule:admin_or_owner';
const SERVICE_OR_ADMIN = 'rule:service_or_admin';
const OWNER = 'user_id:%(user_id)s';
const SYSTEM_READER = 'role:reader and system_scope:all';
const SYSTEM_ADMIN = 'role:admin and system_scope:all';

/** One Keystone rule: its current default and, where it changed, the deprecated default still honoured. */
export interface KeystonePolicyRule {
  readonly check: string;
  readonly deprecated?: string;
}

/** Every rule Keystone Zed registers, keyed by rule name, grouped as in keystone's policy modules. */
export const keystonePolicyRules: Readonly<Record<string, KeystonePolicyRule>> = {
  // base
  admin_required: {
    check: 'role:admin or is_admin:1',
  },
  service_role: { check: 'role:service' },
  service_or_admin: {
    check: 'rule:admin_required or rule:service_role',
  },
  owner: { check: OWNER },
  admin_or_owner: {
    check: 'rule:admin_required or rule:owner',
  },
  token_subject: { check: 'user_id:%(target.token.user_id)s' },
  admin_or_token_subject: {
    check: 'rule:admin_required or rule:token_subject',
  },
  service_admin_or_token_subject: {
    check: 'rule:service_or_admin or rule:token_subject',
  },

  // access rule
  'identity:get_access_rule': {
    check: `(${SYSTEM_READER}) or user_id:%(target.user.id)s`,
  },
  'identity:list_access_rules': {
    check: `(${SYSTEM_READER}) or user_id:%(target.user.id)s`,
  },
  'identity:delete_access_rule': {
    check: `(${SYSTEM_ADMIN}) or user_id:%(target.user.id)s`,
  },

  // access token
  'identity:authorize_request_token': { check: ADMIN_REQUIRED },
  'identity:get_access_token': { check: ADMIN_REQUIRED },
  'identity:get_access_token_role': { check: ADMIN_REQUIRED },
  'identity:list_access_tokens': { check: ADMIN_REQUIRED },
  'identity:list_access_token_roles': { check: ADMIN_REQUIRED },
  'identity:delete_access_token': { check: ADMIN_REQUIRED },

  // application credential
  'identity:get_application_credential': {
    check: `(${SYSTEM_READER}) or rule:owner`,
    deprecated: ADMIN_OR_OWNER,
  },
  'identity:list_application_credentials': {
    check: `(${SYSTEM_READER}) or rule:owner`,
    deprecated: ADMIN_OR_OWNER,
  },
  'identity:create_application_credential': { check: OWNER },
  'identity:delete_application_credential': {
    check: `(${SYSTEM_ADMIN}) or rule:owner`,
    deprecated: ADMIN_OR_OWNER,
  },

  // auth
  'identity:get_auth_catalog': { check: '' },
  'identity:get_auth_projects': { check: '' },
  'identity:get_auth_domains': { check: '' },
  'identity:get_auth_system': { check: '' },

  // consumer
  'identity:get_consumer': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_consumers': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_consumer': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_consumer': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_consumer': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // credential
  'identity:get_credential': {
    check: `(${SYSTEM_READER}) or user_id:%(target.credential.user_id)s`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_credentials': {
    check: `(${SYSTEM_READER}) or user_id:%(target.credential.user_id)s`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:create_credential': {
    check: `(${SYSTEM_ADMIN}) or user_id:%(target.credential.user_id)s`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:update_credential': {
    check: `(${SYSTEM_ADMIN}) or user_id:%(target.credential.user_id)s`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:delete_credential': {
    check: `(${SYSTEM_ADMIN}) or user_id:%(target.credential.user_id)s`,
    deprecated: ADMIN_REQUIRED,
  },

  // domain
  'identity:get_domain': {
    check: `(${SYSTEM_READER}) or token.domain.id:%(target.domain.id)s or `
      + 'token.project.domain.id:%(target.domain.id)s',
    deprecated: 'rule:admin_required or token.project.domain.id:%(target.domain.id)s',
  },
  'identity:list_domains': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_domain': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_domain': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_domain': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // domain config
  'identity:create_domain_config': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:get_domain_config': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:get_security_compliance_domain_config': { check: '' },
  'identity:update_domain_config': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_domain_config': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:get_domain_config_default': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },

  // ec2 credential
  'identity:ec2_get_credential': {
    check: `(${SYSTEM_READER}) or user_id:%(target.credential.user_id)s`,
    deprecated: 'rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)',
  },
  'identity:ec2_list_credentials': {
    check: `(${SYSTEM_READER}) or rule:owner`,
    deprecated: ADMIN_OR_OWNER,
  },
  'identity:ec2_create_credential': {
    check: `(${SYSTEM_ADMIN}) or rule:owner`,
    deprecated: ADMIN_OR_OWNER,
  },
  'identity:ec2_delete_credential': {
    check: `(${SYSTEM_ADMIN}) or user_id:%(target.credential.user_id)s`,
    deprecated: 'rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)',
  },

  // endpoint
  'identity:get_endpoint': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_endpoints': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_endpoint': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_endpoint': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_endpoint': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // endpoint group
  'identity:create_endpoint_group': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:list_endpoint_groups': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:get_endpoint_group': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:update_endpoint_group': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_endpoint_group': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:list_projects_associated_with_endpoint_group': {
    check: SYSTEM_READER,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_endpoints_associated_with_endpoint_group': {
    check: SYSTEM_READER,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:get_endpoint_group_in_project': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_endpoint_groups_for_project': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:add_endpoint_group_to_project': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:remove_endpoint_group_from_project': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // grant
  'identity:check_grant': {
    check: `(${SYSTEM_READER}) or `
      + '((role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or '
      + '(role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or '
      + '(role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or '
      + '(role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or '
      + 'None:%(target.role.domain_id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_grants': {
    check: `(${SYSTEM_READER}) or `
      + '(role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or '
      + '(role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or '
      + '(role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or '
      + '(role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:create_grant': {
    check: `(${SYSTEM_ADMIN}) or `
      + '((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or '
      + '(role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or '
      + '(role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or '
      + '(role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or '
      + 'None:%(target.role.domain_id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:revoke_grant': {
    check: `(${SYSTEM_ADMIN}) or `
      + '((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or '
      + '(role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or '
      + '(role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or '
      + '(role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or '
      + 'None:%(target.role.domain_id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_system_grants_for_user': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:check_system_grant_for_user': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_system_grant_for_user': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:revoke_system_grant_for_user': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:list_system_grants_for_group': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:check_system_grant_for_group': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_system_grant_for_group': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:revoke_system_grant_for_group': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // group
  'identity:get_group': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.group.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_groups': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.group.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_groups_for_user': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s`,
    deprecated: ADMIN_OR_OWNER,
  },
  'identity:create_group': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.group.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:update_group': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.group.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:delete_group': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.group.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_users_in_group': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.group.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:remove_user_from_group': {
    check: `(${SYSTEM_ADMIN}) or `
      + '(role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:check_user_in_group': {
    check: `(${SYSTEM_READER}) or `
      + '(role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:add_user_to_group': {
    check: `(${SYSTEM_ADMIN}) or `
      + '(role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)',
    deprecated: ADMIN_REQUIRED,
  },

  // identity provider
  'identity:create_identity_provider': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:list_identity_providers': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:get_identity_provider': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:update_identity_provider': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_identity_provider': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // implied role
  'identity:get_implied_role': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_implied_roles': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_implied_role': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_implied_role': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:list_role_inference_rules': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:check_implied_role': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },

  // limit
  'identity:get_limit_model': { check: '' },
  'identity:get_limit': {
    check: `(${SYSTEM_READER}) or (domain_id:%(target.limit.domain.id)s or `
      + 'domain_id:%(target.limit.project.domain_id)s) or '
      + '(project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)',
  },
  'identity:list_limits': { check: '' },
  'identity:create_limits': { check: SYSTEM_ADMIN },
  'identity:update_limit': { check: SYSTEM_ADMIN },
  'identity:delete_limit': { check: SYSTEM_ADMIN },

  // mapping
  'identity:create_mapping': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:get_mapping': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_mappings': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:delete_mapping': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_mapping': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // policy
  'identity:get_policy': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_policies': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_policy': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_policy': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_policy': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // policy association
  'identity:create_policy_association_for_endpoint': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:check_policy_association_for_endpoint': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:delete_policy_association_for_endpoint': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:create_policy_association_for_service': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:check_policy_association_for_service': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:delete_policy_association_for_service': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:create_policy_association_for_region_and_service': {
    check: SYSTEM_ADMIN,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:check_policy_association_for_region_and_service': {
    check: SYSTEM_READER,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:delete_policy_association_for_region_and_service': {
    check: SYSTEM_ADMIN,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:get_policy_for_endpoint': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_endpoints_for_policy': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },

  // project
  'identity:get_project': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.project.domain_id)s) or `
      + 'project_id:%(target.project.id)s',
    deprecated: 'rule:admin_required or project_id:%(target.project.id)s',
  },
  'identity:list_projects': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_user_projects': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.user.domain_id)s) or `
      + 'user_id:%(target.user.id)s',
    deprecated: ADMIN_OR_OWNER,
  },
  'identity:create_project': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.project.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:update_project': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.project.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:delete_project': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.project.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_project_tags': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.project.domain_id)s) or `
      + 'project_id:%(target.project.id)s',
    deprecated: 'rule:admin_required or project_id:%(target.project.id)s',
  },
  'identity:get_project_tag': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.project.domain_id)s) or `
      + 'project_id:%(target.project.id)s',
    deprecated: 'rule:admin_required or project_id:%(target.project.id)s',
  },
  'identity:update_project_tags': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.project.domain_id)s) or `
      + '(role:admin and project_id:%(target.project.id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:create_project_tag': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.project.domain_id)s) or `
      + '(role:admin and project_id:%(target.project.id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:delete_project_tags': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.project.domain_id)s) or `
      + '(role:admin and project_id:%(target.project.id)s)',
    deprecated: ADMIN_REQUIRED,
  },
  'identity:delete_project_tag': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and domain_id:%(target.project.domain_id)s) or `
      + '(role:admin and project_id:%(target.project.id)s)',
    deprecated: ADMIN_REQUIRED,
  },

  // project endpoint
  'identity:list_projects_for_endpoint': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:add_endpoint_to_project': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:check_endpoint_in_project': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_endpoints_for_project': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:remove_endpoint_from_project': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // protocol
  'identity:create_protocol': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_protocol': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:get_protocol': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_protocols': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:delete_protocol': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // region
  'identity:get_region': { check: '' },
  'identity:list_regions': { check: '' },
  'identity:create_region': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_region': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_region': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // registered limit
  'identity:get_registered_limit': { check: '' },
  'identity:list_registered_limits': { check: '' },
  'identity:create_registered_limits': { check: SYSTEM_ADMIN },
  'identity:update_registered_limit': { check: SYSTEM_ADMIN },
  'identity:delete_registered_limit': { check: SYSTEM_ADMIN },

  // revoke event
  'identity:list_revoke_events': { check: SERVICE_OR_ADMIN },

  // role
  'identity:get_role': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_roles': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_role': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_role': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_role': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:get_domain_role': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_domain_roles': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_domain_role': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_domain_role': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_domain_role': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // role assignment
  'identity:list_role_assignments': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_role_assignments_for_tree': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.project.domain_id)s) or `
      + '(role:admin and project_id:%(target.project.id)s)',
    deprecated: ADMIN_REQUIRED,
  },

  // service
  'identity:get_service': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_services': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:create_service': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:update_service': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_service': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // service provider
  'identity:create_service_provider': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:list_service_providers': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:get_service_provider': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:update_service_provider': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },
  'identity:delete_service_provider': { check: SYSTEM_ADMIN, deprecated: ADMIN_REQUIRED },

  // token revocation
  'identity:revocation_list': { check: SERVICE_OR_ADMIN },

  // token
  'identity:check_token': {
    check: `(${SYSTEM_READER}) or rule:token_subject`,
    deprecated: 'rule:admin_or_token_subject',
  },
  'identity:validate_token': {
    check: `(${SYSTEM_READER}) or rule:service_role or rule:token_subject`,
    deprecated: 'rule:service_admin_or_token_subject',
  },
  'identity:revoke_token': {
    check: `(${SYSTEM_ADMIN}) or rule:token_subject`,
    deprecated: 'rule:admin_or_token_subject',
  },

  // trust
  'identity:create_trust': { check: 'user_id:%(trust.trustor_user_id)s' },
  'identity:list_trusts': { check: SYSTEM_READER, deprecated: ADMIN_REQUIRED },
  'identity:list_trusts_for_trustor': {
    check: 'role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s',
  },
  'identity:list_trusts_for_trustee': {
    check: 'role:reader and system_scope:all or user_id:%(target.trust.trustee_user_id)s',
  },
  'identity:list_roles_for_trust': {
    check: 'role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or '
      + 'user_id:%(target.trust.trustee_user_id)s',
    deprecated: 'user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s',
  },
  'identity:get_role_for_trust': {
    check: 'role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or '
      + 'user_id:%(target.trust.trustee_user_id)s',
    deprecated: 'user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s',
  },
  'identity:delete_trust': {
    check: 'role:admin and system_scope:all or user_id:%(target.trust.trustor_user_id)s',
    deprecated: 'user_id:%(target.trust.trustor_user_id)s',
  },
  'identity:get_trust': {
    check: 'role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or '
      + 'user_id:%(target.trust.trustee_user_id)s',
    deprecated: 'user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s',
  },

  // user
  'identity:get_user': {
    check: `(${SYSTEM_READER}) or `
      + '(role:reader and token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s',
    deprecated: ADMIN_OR_OWNER,
  },
  'identity:list_users': {
    check: `(${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:list_projects_for_user': { check: '' },
  'identity:list_domains_for_user': { check: '' },
  'identity:create_user': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and token.domain.id:%(target.user.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:update_user': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and token.domain.id:%(target.user.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
  'identity:delete_user': {
    check: `(${SYSTEM_ADMIN}) or (role:admin and token.domain.id:%(target.user.domain_id)s)`,
    deprecated: ADMIN_REQUIRED,
  },
};

/** How the rule table is turned into enforced rules (oslo.policy's `[oslo_policy]` options). */
export interface IdentityPolicyOptions {
  /** When true, deprecated rules are ignored (Keystone Zed: false). */
  readonly enforceNewDefaults?: boolean;
}

/**
 * The enforced check string of each rule: the new default OR-ed with the
 * deprecated one unless `enforceNewDefaults`.
 */
export function buildIdentityPolicyDefaults(options: IdentityPolicyOptions = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, rule] of Object.entries(keystonePolicyRules)) {
    const legacy = rule.deprecated;
    out[name] =
      options.enforceNewDefaults || legacy === undefined || legacy === rule.check
        ? rule.check
        : `(${rule.check}) or (${legacy})`;
  }
  return out;
}

/** Keystone Zed's effective identity policy (`enforce_new_defaults=False`, `enforce_scope=False`). */
export const identityPolicyDefaults: Record<string, string> = buildIdentityPolicyDefaults();
