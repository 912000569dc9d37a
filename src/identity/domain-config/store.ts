import type { Identity } from '../identity.js';
import type { DomainConfigRow } from '../store/schema.js';
import { memo } from '../assignments/effective.js';
import { pyFormat } from '../catalog/url-template.js';
import { type DomainConfig, isSensitive } from './options.js';

interface OptionValue { group: string; option: string; value: unknown }

const decode = (text: string): unknown => { try { return JSON.parse(text); } catch { return text; } };

/** Stored options of a domain, whitelisted or sensitive ones, optionally narrowed to a group/option. */
export async function listOptions(id: Identity, domainId: string, sensitive: boolean, group?: string, option?: string): Promise<OptionValue[]> {
  let q = id.db.selectFrom('domain_config').selectAll().where('domain_id', '=', domainId).where('sensitive', '=', sensitive ? 1 : 0);
  if (group) {
    q = q.where('group_name', '=', group);
    if (option) q = q.where('option_name', '=', option);
  }
  const rows = await q.orderBy('group_name').orderBy('option_name').execute();
  return rows.map((r) => ({ group: r.group_name, option: r.option_name, value: decode(r.value) }));
}

/** Options as a config object ({group: {option: value}}). */
export function toConfig(list: readonly OptionValue[]): DomainConfig {
  const out: DomainConfig = {};
  for (const o of list) (out[o.group] ??= {})[o.option] = o.value;
  return out;
}

const rowsOf = (domainId: string, config: DomainConfig): DomainConfigRow[] =>
  Object.entries(config).flatMap(([group, options]) => Object.entries(options).map(([option, value]) => ({
    domain_id: domainId, group_name: group, option_name: option, value: JSON.stringify(value ?? null), sensitive: isSensitive(group, option) ? 1 : 0,
  })));

/** Replaces a domain's whole configuration. */
export async function replaceConfig(id: Identity, domainId: string, config: DomainConfig): Promise<void> {
  await id.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('domain_config').where('domain_id', '=', domainId).execute();
    const rows = rowsOf(domainId, config);
    if (rows.length) await trx.insertInto('domain_config').values(rows).execute();
  });
  id.changed();
}

/** Creates or overwrites the given options, leaving the others alone. */
export async function upsertOptions(id: Identity, domainId: string, config: DomainConfig): Promise<void> {
  await id.db.transaction().execute(async (trx) => {
    for (const row of rowsOf(domainId, config)) {
      await trx.deleteFrom('domain_config').where('domain_id', '=', domainId).where('group_name', '=', row.group_name).where('option_name', '=', row.option_name).execute();
      await trx.insertInto('domain_config').values(row).execute();
    }
  });
  id.changed();
}

/** Deletes a domain's configuration, one group of it, or one option. */
export async function deleteOptions(id: Identity, domainId: string, group?: string, option?: string): Promise<void> {
  let q = id.db.deleteFrom('domain_config').where('domain_id', '=', domainId);
  if (group) {
    q = q.where('group_name', '=', group);
    if (option) q = q.where('option_name', '=', option);
  }
  await q.execute();
  id.changed();
}

/**
 * A domain's configuration with sensitive options included (`{}` when it has none), as the
 * identity backend needs it: `identity.driver === 'ldap'` marks an LDAP-backed domain and
 * `ldap.*` holds its settings. Whitelisted string values referring to sensitive options as
 * `%(password)s` get them substituted, as Keystone does. Cached until the next write.
 */
export function getDomainConfig(id: Identity, domainId: string): Promise<DomainConfig> {
  return memo(id, `domain-config:${domainId}`, async () => {
    const whitelisted = await listOptions(id, domainId, false);
    const sensitive = await listOptions(id, domainId, true);
    const secrets = new Map(sensitive.map((s) => [s.option, s.value]));
    const substituted = whitelisted.map((w) => {
      if (typeof w.value !== 'string' || !w.value.includes('%')) return w;
      const v = pyFormat(w.value, (k) => (secrets.has(k) ? String(secrets.get(k)) : undefined));
      return v === null ? w : { ...w, value: v };
    });
    return toConfig([...substituted, ...sensitive]);
  });
}

/** Ids of the domains whose configuration selects the LDAP identity driver. */
export async function ldapDomainIds(id: Identity): Promise<string[]> {
  const rows = await id.db.selectFrom('domain_config').select(['domain_id', 'value'])
    .where('group_name', '=', 'identity').where('option_name', '=', 'driver').execute();
  return rows.filter((r) => decode(r.value) === 'ldap').map((r) => r.domain_id);
}
