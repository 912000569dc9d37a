import type { Identity } from '../identity.js';
import { Fault } from '../../platform/http/faults.js';

/** A domain configuration: group → option → value (any JSON value, as Keystone stores them). */
export type DomainConfig = Record<string, Record<string, unknown>>;

/** Options a domain may override and read back (Keystone's whitelist). */
export const WHITELISTED_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  identity: ['driver', 'list_limit'],
  ldap: [
    'url', 'user', 'suffix', 'query_scope', 'page_size', 'alias_dereferencing', 'debug_level', 'chase_referrals',
    'user_tree_dn', 'user_filter', 'user_objectclass', 'user_id_attribute', 'user_name_attribute', 'user_mail_attribute',
    'user_description_attribute', 'user_pass_attribute', 'user_enabled_attribute', 'user_enabled_invert',
    'user_enabled_mask', 'user_enabled_default', 'user_attribute_ignore', 'user_default_project_id_attribute',
    'user_enabled_emulation', 'user_enabled_emulation_dn', 'user_enabled_emulation_use_group_config',
    'user_additional_attribute_mapping', 'group_tree_dn', 'group_filter', 'group_objectclass', 'group_id_attribute',
    'group_name_attribute', 'group_members_are_ids', 'group_member_attribute', 'group_desc_attribute',
    'group_attribute_ignore', 'group_additional_attribute_mapping', 'tls_cacertfile', 'tls_cacertdir', 'use_tls',
    'tls_req_cert', 'use_pool', 'pool_size', 'pool_retry_max', 'pool_retry_delay', 'pool_connection_timeout',
    'pool_connection_lifetime', 'use_auth_pool', 'auth_pool_size', 'auth_pool_connection_lifetime',
  ],
};

/** Options a domain may set but never read back (stored, used by the backend only). */
export const SENSITIVE_OPTIONS: Readonly<Record<string, readonly string[]>> = { identity: [], ldap: ['password'] };

/** Keystone's [ldap] defaults for the whitelisted options (None → null). */
const LDAP_DEFAULTS: Readonly<Record<string, unknown>> = {
  url: 'ldap://localhost', user: null, suffix: 'cn=example,cn=com', query_scope: 'one', page_size: 0,
  alias_dereferencing: 'default', debug_level: null, chase_referrals: null, user_tree_dn: null, user_filter: null,
  user_objectclass: 'inetOrgPerson', user_id_attribute: 'cn', user_name_attribute: 'sn', user_mail_attribute: 'mail',
  user_description_attribute: 'description', user_pass_attribute: 'userPassword', user_enabled_attribute: 'enabled',
  user_enabled_invert: false, user_enabled_mask: 0, user_enabled_default: 'True', user_attribute_ignore: ['default_project_id'],
  user_default_project_id_attribute: null, user_enabled_emulation: false, user_enabled_emulation_dn: null,
  user_enabled_emulation_use_group_config: false, user_additional_attribute_mapping: [], group_tree_dn: null,
  group_filter: null, group_objectclass: 'groupOfNames', group_id_attribute: 'cn', group_name_attribute: 'ou',
  group_members_are_ids: false, group_member_attribute: 'member', group_desc_attribute: 'description',
  group_attribute_ignore: [], group_additional_attribute_mapping: [], tls_cacertfile: null, tls_cacertdir: null,
  use_tls: false, tls_req_cert: 'demand', use_pool: true, pool_size: 10, pool_retry_max: 3, pool_retry_delay: 0.1,
  pool_connection_timeout: -1, pool_connection_lifetime: 600, use_auth_pool: true, auth_pool_size: 100,
  auth_pool_connection_lifetime: 60,
};

/** The server-wide default of a whitelisted option (what `/v3/domains/config/default` shows). */
export function defaultOption(id: Identity, group: string, option: string): unknown {
  if (group === 'identity') {
    if (option === 'driver') return 'sql';
    if (option === 'list_limit') return id.config.identity.list_limit > 0 ? id.config.identity.list_limit : null;
  }
  return LDAP_DEFAULTS[option] ?? null;
}

/** Keystone's InvalidDomainConfig (403). */
export const invalidConfig = (reason: string) => new Fault(403, `Invalid domain specific configuration: ${reason}.`, {}, 'Forbidden');

/** Keystone's DomainConfigNotFound (404). */
export const configNotFound = (domainId: string, what: string) => new Fault(404, `Could not find ${what} in domain configuration for domain ${domainId}.`, {}, 'NotFound');

/** "option X in group Y" / "group Y" / "any options", as Keystone words a missing part. */
export const describePart = (group?: string, option?: string): string =>
  option ? `option ${option} in group ${group}` : group ? `group ${group}` : 'any options';

export const isSensitive = (group: string, option: string): boolean => (SENSITIVE_OPTIONS[group] ?? []).includes(option);

/** Keystone's `_assert_valid_group_and_option`. */
export function assertValidGroupAndOption(group?: string, option?: string): void {
  if (!group) return;
  if (!Object.hasOwn(WHITELISTED_OPTIONS, group)) throw invalidConfig(`Group ${group} is not supported for domain specific configurations`);
  if (option && !WHITELISTED_OPTIONS[group].includes(option) && !isSensitive(group, option)) {
    throw invalidConfig(`Option ${option} in group ${group} is not supported for domain specific configurations`);
  }
}

/** Keystone's `_assert_valid_config`: a non-empty object of non-empty groups of supported options. */
export function assertValidConfig(config: unknown): asserts config is DomainConfig {
  if (!config || typeof config !== 'object' || Array.isArray(config) || Object.keys(config).length === 0) {
    throw invalidConfig('No options specified');
  }
  for (const [group, options] of Object.entries(config as Record<string, unknown>)) {
    if (!options || typeof options !== 'object' || Array.isArray(options) || Object.keys(options).length === 0) {
      throw invalidConfig(`The value of group ${group} specified in the config should be a dictionary of options`);
    }
    for (const option of Object.keys(options)) assertValidGroupAndOption(group, option);
  }
}
