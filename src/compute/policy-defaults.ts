/**
 * Default policy of the compute API for the resources this service serves, as Nova ships it
 * (nova/policies/*.py, new defaults): admin-only management, project readers for their own
 * quotas and extra specs, key pairs for their owner (or an admin). An operator's policy file
 * (`compute.policy_file`) overrides whole entries, as in oslo.
 */
import type { PolicyRuleDefault } from '../platform/policy/index.js';

const ADMIN = 'rule:context_is_admin';
const PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin';
const ANY = '@';
const KEYPAIR_OWNER = `(${ADMIN}) or user_id:%(user_id)s`;

const rule = (name: string, check: string, description?: string): PolicyRuleDefault => ({ name, check, description });

export const computePolicyDefaults: readonly PolicyRuleDefault[] = [
  rule('context_is_admin', 'role:admin', "Decides what is required for the 'is_admin:True' check to succeed."),
  rule('admin_api', 'is_admin:True'),
  rule('admin_or_owner', 'is_admin:True or project_id:%(project_id)s'),
  rule('project_manager_api', 'role:manager and project_id:%(project_id)s'),
  rule('project_member_api', 'role:member and project_id:%(project_id)s'),
  rule('project_reader_api', 'role:reader and project_id:%(project_id)s'),
  rule('service_api', 'role:service'),
  rule('project_manager_or_admin', 'rule:project_manager_api or rule:context_is_admin'),
  rule('project_member_or_admin', 'rule:project_member_api or rule:context_is_admin'),
  rule('project_reader_or_admin', 'rule:project_reader_api or rule:context_is_admin'),
  rule('service_or_admin', 'rule:service_api or rule:context_is_admin'),

  rule('os_compute_api:os-flavor-manage:create', ADMIN),
  rule('os_compute_api:os-flavor-manage:update', ADMIN),
  rule('os_compute_api:os-flavor-manage:delete', ADMIN),
  rule('os_compute_api:os-flavor-access', ADMIN),
  rule('os_compute_api:os-flavor-access:add_tenant_access', ADMIN),
  rule('os_compute_api:os-flavor-access:remove_tenant_access', ADMIN),
  rule('os_compute_api:os-flavor-extra-specs:index', PROJECT_READER_OR_ADMIN),
  rule('os_compute_api:os-flavor-extra-specs:show', PROJECT_READER_OR_ADMIN),
  rule('os_compute_api:os-flavor-extra-specs:create', ADMIN),
  rule('os_compute_api:os-flavor-extra-specs:update', ADMIN),
  rule('os_compute_api:os-flavor-extra-specs:delete', ADMIN),

  rule('os_compute_api:os-keypairs:index', KEYPAIR_OWNER),
  rule('os_compute_api:os-keypairs:create', KEYPAIR_OWNER),
  rule('os_compute_api:os-keypairs:show', KEYPAIR_OWNER),
  rule('os_compute_api:os-keypairs:delete', KEYPAIR_OWNER),

  rule('os_compute_api:limits', ANY),
  rule('os_compute_api:limits:other_project', ADMIN),
  rule('os_compute_api:os-quota-sets:show', PROJECT_READER_OR_ADMIN),
  rule('os_compute_api:os-quota-sets:detail', PROJECT_READER_OR_ADMIN),
  rule('os_compute_api:os-quota-sets:defaults', ANY),
  rule('os_compute_api:os-quota-sets:update', ADMIN),
  rule('os_compute_api:os-quota-sets:delete', ADMIN),
  rule('os_compute_api:os-quota-class-sets:show', ADMIN),
  rule('os_compute_api:os-quota-class-sets:update', ADMIN),

  rule('os_compute_api:os-availability-zone:list', ANY),
  rule('os_compute_api:os-availability-zone:detail', ADMIN),
  rule('os_compute_api:os-services:list', ADMIN),
  rule('os_compute_api:os-services:update', ADMIN),
  rule('os_compute_api:os-services:delete', ADMIN),
  rule('os_compute_api:os-hypervisors:list', ADMIN),
  rule('os_compute_api:os-hypervisors:list-detail', ADMIN),
  rule('os_compute_api:os-hypervisors:statistics', ADMIN),
  rule('os_compute_api:os-hypervisors:show', ADMIN),
  rule('os_compute_api:os-hypervisors:uptime', ADMIN),
  rule('os_compute_api:os-hypervisors:search', ADMIN),
  rule('os_compute_api:os-hypervisors:servers', ADMIN),
  rule('os_compute_api:os-aggregates:index', ADMIN),
  rule('os_compute_api:os-aggregates:create', ADMIN),
  rule('os_compute_api:os-aggregates:show', ADMIN),
  rule('os_compute_api:os-aggregates:update', ADMIN),
  rule('os_compute_api:os-aggregates:delete', ADMIN),
  rule('os_compute_api:os-aggregates:add_host', ADMIN),
  rule('os_compute_api:os-aggregates:remove_host', ADMIN),
  rule('os_compute_api:os-aggregates:set_metadata', ADMIN),
  rule('compute:aggregates:images', ADMIN),
];
