import type { DomainConfig } from '../domain-config/options.js';

/** One entity kind's mapping onto the directory (Keystone's `user_*` / `group_*` options). */
export interface EntityMapping {
  readonly treeDn: string;
  readonly objectClass: string;
  readonly idAttribute: string;
  readonly nameAttribute: string;
  readonly descriptionAttribute: string;
  /** Extra LDAP filter ANDed into every search (`user_filter` / `group_filter`), or ''. */
  readonly filter: string;
  /** Keystone attribute names not read from the directory (`*_attribute_ignore`). */
  readonly ignore: readonly string[];
}

/** An LDAP-backed domain's settings, Keystone's `[ldap]` options with Keystone's defaults applied. */
export interface LdapSettings {
  /** Server URLs, tried in order (Keystone accepts a comma or space separated list). */
  readonly urls: readonly string[];
  /** The service account to bind as for searches; anonymous when either is missing. */
  readonly bindDn: string | null;
  readonly bindPassword: string | null;
  readonly suffix: string;
  readonly scope: 'one' | 'sub';
  readonly pageSize: number;
  readonly derefAliases: 'never' | 'search' | 'find' | 'always' | undefined;
  readonly useTls: boolean;
  readonly tlsCaCertFile: string | null;
  readonly tlsRequireCert: boolean;
  readonly user: EntityMapping & {
    readonly mailAttribute: string;
    readonly enabledAttribute: string;
    readonly enabledInvert: boolean;
    readonly enabledMask: number;
    readonly enabledDefault: string;
    readonly enabledEmulation: boolean;
    readonly enabledEmulationDn: string;
    /** Read the emulation group with the group options instead of groupOfNames/member DNs. */
    readonly enabledEmulationUseGroupConfig: boolean;
    readonly defaultProjectIdAttribute: string | null;
  };
  readonly group: EntityMapping & {
    readonly memberAttribute: string;
    readonly membersAreIds: boolean;
  };
}

const str = (v: unknown, dflt: string): string => (typeof v === 'string' && v.trim() !== '' ? v : v === undefined || v === null || v === '' ? dflt : String(v));
const optStr = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : v === undefined || v === null || v === '' ? null : String(v));
/** oslo.config's boolean parsing (strings as written in keystone.conf, or JSON booleans). */
const flag = (v: unknown, dflt: boolean): boolean => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return ['1', 'true', 'on', 'yes', 'y', 't'].includes(v.trim().toLowerCase());
  return dflt;
};
const num = (v: unknown, dflt: number): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : dflt;
};
/** oslo.config list options: a JSON array or a comma separated string. */
const list = (v: unknown, dflt: readonly string[]): readonly string[] => {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return dflt;
};

/** Whether a domain's configuration selects the LDAP identity driver. */
export const isLdapConfig = (config: DomainConfig): boolean => config.identity?.driver === 'ldap';

/**
 * Reads a domain's `[ldap]` group with Keystone's defaults (keystone/conf/ldap.py): users under
 * `ou=Users,<suffix>` as inetOrgPerson with id `cn` and name `sn`; groups under
 * `ou=UserGroups,<suffix>` as groupOfNames with id `cn`, name `ou` and members in `member`.
 */
export function ldapSettings(config: DomainConfig): LdapSettings {
  const o = config.ldap ?? {};
  const suffix = str(o.suffix, 'cn=example,cn=com');
  const scope = str(o.query_scope, 'one') === 'sub' ? 'sub' : 'one';
  const deref = str(o.alias_dereferencing, 'default');
  const userTree = str(o.user_tree_dn, `ou=Users,${suffix}`);
  return {
    urls: str(o.url, 'ldap://localhost').split(/[\s,]+/).filter(Boolean),
    bindDn: optStr(o.user),
    bindPassword: optStr(o.password),
    suffix,
    scope,
    pageSize: Math.max(0, Math.trunc(num(o.page_size, 0))),
    derefAliases: deref === 'default' ? undefined : (['never', 'searching', 'finding', 'always'].includes(deref)
      ? ({ never: 'never', searching: 'search', finding: 'find', always: 'always' } as const)[deref as 'never' | 'searching' | 'finding' | 'always']
      : undefined),
    useTls: flag(o.use_tls, false),
    tlsCaCertFile: optStr(o.tls_cacertfile),
    tlsRequireCert: str(o.tls_req_cert, 'demand') !== 'never',
    user: {
      treeDn: userTree,
      objectClass: str(o.user_objectclass, 'inetOrgPerson'),
      idAttribute: str(o.user_id_attribute, 'cn'),
      nameAttribute: str(o.user_name_attribute, 'sn'),
      descriptionAttribute: str(o.user_description_attribute, 'description'),
      filter: optStr(o.user_filter) ?? '',
      ignore: list(o.user_attribute_ignore, ['default_project_id']),
      mailAttribute: str(o.user_mail_attribute, 'mail'),
      enabledAttribute: str(o.user_enabled_attribute, 'enabled'),
      enabledInvert: flag(o.user_enabled_invert, false),
      enabledMask: Math.trunc(num(o.user_enabled_mask, 0)),
      enabledDefault: str(o.user_enabled_default, 'True'),
      enabledEmulation: flag(o.user_enabled_emulation, false),
      enabledEmulationDn: str(o.user_enabled_emulation_dn, `cn=enabled_users,${userTree}`),
      enabledEmulationUseGroupConfig: flag(o.user_enabled_emulation_use_group_config, false),
      defaultProjectIdAttribute: optStr(o.user_default_project_id_attribute),
    },
    group: {
      treeDn: str(o.group_tree_dn, `ou=UserGroups,${suffix}`),
      objectClass: str(o.group_objectclass, 'groupOfNames'),
      idAttribute: str(o.group_id_attribute, 'cn'),
      nameAttribute: str(o.group_name_attribute, 'ou'),
      descriptionAttribute: str(o.group_desc_attribute, 'description'),
      filter: optStr(o.group_filter) ?? '',
      ignore: list(o.group_attribute_ignore, []),
      memberAttribute: str(o.group_member_attribute, 'member'),
      membersAreIds: flag(o.group_members_are_ids, false),
    },
  };
}
