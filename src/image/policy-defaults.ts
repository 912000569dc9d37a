/**
 * Default policy of the image API, as Glance Zed ships it (glance/policies/*.py at zed), in
 * oslo.policy syntax.
 *
 * Effective behaviour. Glance Zed runs with `enforce_new_defaults=False` and
 * `enforce_secure_rbac=False`: for every rule with a deprecated default oslo enforces
 * `(new default) or (deprecated rule)`, and the deprecated rule of almost every image rule is
 * `rule:default`, which is empty (always true). So policy lets nearly everything through and the
 * real protection is Glance's legacy ownership check (admin or owner for changes, visibility for
 * reads), which `ImageService` applies in code exactly where Glance does. The exceptions with no
 * deprecated form: `publicize_image`, `copy_image`, `manage_image_cache`, `stores_info_detail`,
 * `tasks_api_access` need the admin role.
 *
 * An operator's policy file replaces whole entries, as in oslo; setting `default` to
 * `role:admin` restores the pre-Ussuri "admin only unless listed" behaviour.
 */
import type { PolicyRuleDefault } from '../platform/policy/index.js';

const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
const IMAGE_MEMBER = 'project_id:%(member_id)s';
const VISIBLE = `${IMAGE_MEMBER} or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s`;
const ADMIN_OR_PROJECT_MEMBER = `role:admin or (${PROJECT_MEMBER})`;
const ADMIN_OR_PROJECT_READER = `role:admin or (${PROJECT_READER})`;
const ADMIN_OR_SHARED_MEMBER = `role:admin or (role:member and ${IMAGE_MEMBER})`;
const ADMIN_OR_READER_OR_SHARED_MEMBER = `role:admin or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER})`;

/** A Zed rule whose deprecated form is `rule:default`: effective `(new) or rule:default`. */
const legacy = (name: string, check: string): PolicyRuleDefault => ({ name, check: `(${check}) or rule:default` });
const strict = (name: string, check: string): PolicyRuleDefault => ({ name, check });

export const imagePolicyDefaults: readonly PolicyRuleDefault[] = [
  strict('default', ''),
  strict('context_is_admin', 'role:admin'),
  legacy('add_image', `role:admin or (${PROJECT_MEMBER} and project_id:%(owner)s)`),
  legacy('delete_image', ADMIN_OR_PROJECT_MEMBER),
  legacy('get_image', `role:admin or (role:reader and (project_id:%(project_id)s or ${VISIBLE}))`),
  legacy('get_images', ADMIN_OR_PROJECT_READER),
  legacy('modify_image', ADMIN_OR_PROJECT_MEMBER),
  strict('publicize_image', 'role:admin'),
  legacy('communitize_image', ADMIN_OR_PROJECT_MEMBER),
  legacy('download_image', `role:admin or (role:member and (project_id:%(project_id)s or ${VISIBLE}))`),
  legacy('upload_image', ADMIN_OR_PROJECT_MEMBER),
  legacy('delete_image_location', 'role:admin'),
  legacy('get_image_location', ADMIN_OR_PROJECT_READER),
  legacy('set_image_location', ADMIN_OR_PROJECT_MEMBER),
  legacy('add_member', ADMIN_OR_PROJECT_MEMBER),
  legacy('delete_member', ADMIN_OR_PROJECT_MEMBER),
  legacy('get_member', ADMIN_OR_READER_OR_SHARED_MEMBER),
  legacy('get_members', ADMIN_OR_READER_OR_SHARED_MEMBER),
  legacy('modify_member', ADMIN_OR_SHARED_MEMBER),
  strict('manage_image_cache', 'role:admin'),
  legacy('deactivate', ADMIN_OR_PROJECT_MEMBER),
  legacy('reactivate', ADMIN_OR_PROJECT_MEMBER),
  strict('copy_image', 'role:admin'),
  strict('stores_info_detail', 'role:admin'),
  strict('get_task', 'rule:default'),
  strict('get_tasks', 'rule:default'),
  strict('add_task', 'rule:default'),
  strict('modify_task', 'rule:default'),
  strict('tasks_api_access', 'role:admin'),
];
