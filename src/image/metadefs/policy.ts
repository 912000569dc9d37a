/**
 * Glance's (Zed) default metadef policy rules. Reads carry the new project-reader rule OR'ed with
 * the deprecated `rule:metadef_default` (empty: anyone), which is what oslo.policy enforces while
 * `enforce_new_defaults` is off (Zed's default): in effect reads are open to every authenticated
 * caller, and the project/visibility checks become real if an operator tightens `metadef_default`.
 * Writes need `role:admin`.
 */
import type { PolicyRuleDefault } from '../../platform/policy/index.js';

const PROJECT_READER_OR_PUBLIC = "role:reader and (project_id:%(project_id)s or 'public':%(visibility)s)";
const READ_NAMESPACE = `(role:admin or (${PROJECT_READER_OR_PUBLIC})) or rule:metadef_default`;
const READ_NAMESPACES = '(role:admin or (role:reader and project_id:%(project_id)s)) or rule:metadef_default';
const ADMIN = 'rule:metadef_admin';

const read = (name: string, description: string, check = READ_NAMESPACE): PolicyRuleDefault => ({ name, check, description });
const write = (name: string, description: string): PolicyRuleDefault => ({ name, check: ADMIN, description });

export const metadefPolicyDefaults: readonly PolicyRuleDefault[] = [
  { name: 'metadef_default', check: '', description: 'Base rule of metadef reads (deprecated defaults).' },
  { name: 'metadef_admin', check: 'role:admin', description: 'Base rule of metadef writes.' },
  read('get_metadef_namespace', 'Show a namespace.'),
  read('get_metadef_namespaces', 'List namespaces.', READ_NAMESPACES),
  write('modify_metadef_namespace', 'Update a namespace.'),
  write('add_metadef_namespace', 'Create a namespace.'),
  write('delete_metadef_namespace', 'Delete a namespace (or all its objects, properties or tags).'),
  read('get_metadef_object', 'Show an object of a namespace.'),
  read('get_metadef_objects', 'List the objects of a namespace.'),
  write('modify_metadef_object', 'Update an object.'),
  write('add_metadef_object', 'Create an object.'),
  write('delete_metadef_object', 'Delete an object.'),
  read('list_metadef_resource_types', 'List resource types and associations.'),
  read('get_metadef_resource_type', 'Show a resource type association.'),
  write('add_metadef_resource_type_association', 'Associate a namespace with a resource type.'),
  write('remove_metadef_resource_type_association', 'Remove a resource type association.'),
  read('get_metadef_property', 'Show a property of a namespace.'),
  read('get_metadef_properties', 'List the properties of a namespace.'),
  write('modify_metadef_property', 'Update a property.'),
  write('add_metadef_property', 'Create a property.'),
  write('remove_metadef_property', 'Delete a property.'),
  read('get_metadef_tag', 'Show a tag of a namespace.'),
  read('get_metadef_tags', 'List the tags of a namespace.'),
  write('modify_metadef_tag', 'Rename a tag.'),
  write('add_metadef_tag', 'Create a tag.'),
  write('add_metadef_tags', 'Create several tags at once.'),
  write('delete_metadef_tag', 'Delete a tag.'),
  write('delete_metadef_tags', 'Delete all tags of a namespace.'),
];
