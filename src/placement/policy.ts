/**
 * Placement's default policy (placement/policies/*.py), as it behaves with oslo's
 * `enforce_new_defaults=False`: each base rule is `(new default) or (deprecated role:admin)`.
 * So everything is for the admin or service role, except `GET /usages`, which a project reader
 * may call for their own project. An operator's policy file overrides entries by name.
 */
import type { PolicyRuleDefault } from '../platform/policy/index.js';

const ADMIN_OR_SERVICE = 'rule:admin_or_service_api';

/** Rule names, as the handlers enforce them. */
export const rules = {
  rpList: 'placement:resource_providers:list',
  rpCreate: 'placement:resource_providers:create',
  rpShow: 'placement:resource_providers:show',
  rpUpdate: 'placement:resource_providers:update',
  rpDelete: 'placement:resource_providers:delete',
  invList: 'placement:resource_providers:inventories:list',
  invCreate: 'placement:resource_providers:inventories:create',
  invShow: 'placement:resource_providers:inventories:show',
  invUpdate: 'placement:resource_providers:inventories:update',
  invDelete: 'placement:resource_providers:inventories:delete',
  aggList: 'placement:resource_providers:aggregates:list',
  aggUpdate: 'placement:resource_providers:aggregates:update',
  rpTraitList: 'placement:resource_providers:traits:list',
  rpTraitUpdate: 'placement:resource_providers:traits:update',
  rpTraitDelete: 'placement:resource_providers:traits:delete',
  rpUsages: 'placement:resource_providers:usages',
  rpAllocList: 'placement:resource_providers:allocations:list',
  allocList: 'placement:allocations:list',
  allocManage: 'placement:allocations:manage',
  allocUpdate: 'placement:allocations:update',
  allocDelete: 'placement:allocations:delete',
  candidates: 'placement:allocation_candidates:list',
  rcList: 'placement:resource_classes:list',
  rcCreate: 'placement:resource_classes:create',
  rcShow: 'placement:resource_classes:show',
  rcUpdate: 'placement:resource_classes:update',
  rcDelete: 'placement:resource_classes:delete',
  traitList: 'placement:traits:list',
  traitShow: 'placement:traits:show',
  traitUpdate: 'placement:traits:update',
  traitDelete: 'placement:traits:delete',
  usages: 'placement:usages',
  reshape: 'placement:reshaper:reshape',
} as const;

export const placementPolicyDefaults: readonly PolicyRuleDefault[] = [
  { name: 'admin_api', check: 'role:admin', description: 'Default rule for most placement APIs.' },
  { name: 'service_api', check: 'role:service or rule:admin_api', description: 'Default rule for service-to-service placement APIs.' },
  { name: 'admin_or_service_api', check: 'role:admin or role:service', description: 'Default rule for most placement APIs.' },
  { name: 'project_reader_api', check: 'role:reader and project_id:%(project_id)s', description: 'Default rule for project level reader APIs.' },
  { name: 'admin_or_project_reader_or_service_api', check: 'role:admin or rule:project_reader_api or role:service', description: 'Default rule for project level reader APIs.' },
  ...Object.values(rules).map((name) => ({
    name,
    check: name === rules.usages ? 'rule:admin_or_project_reader_or_service_api' : name === rules.reshape ? 'rule:service_api' : ADMIN_OR_SERVICE,
  })),
];
