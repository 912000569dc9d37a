/** Placeholders Keystone accepts in endpoint URLs (its whitelist). */
export const URL_PLACEHOLDERS = [
  'tenant_id', 'project_id', 'user_id', 'public_bind_host', 'admin_bind_host', 'compute_host', 'admin_port', 'public_port', 'compute_port',
] as const;

/** Values for the placeholders of an endpoint URL. */
export interface UrlSubstitutions { project_id?: string; tenant_id?: string; user_id?: string }

/**
 * Python's `template % mapping` for `%(key)s` references and `%%`, as Keystone applies it to
 * endpoint URLs and domain config values. `undefined` from `lookup` is a missing key; the result
 * is null when a key is missing or the template is malformed.
 */
export function pyFormat(template: string, lookup: (key: string) => string | undefined): string | null {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%') { out += c; continue; }
    if (template[i + 1] === '%') { out += '%'; i++; continue; }
    if (template[i + 1] !== '(') return null;
    const close = template.indexOf(')', i + 2);
    if (close < 0 || template[close + 1] !== 's') return null;
    const value = lookup(template.slice(i + 2, close));
    if (value === undefined) return null;
    out += value;
    i = close + 1;
  }
  return out;
}

/**
 * Formats an endpoint URL as Keystone's `format_url`: `$(key)s` and `%(key)s` are substituted.
 * Returns null when the endpoint must be left out of a catalog: a project placeholder without
 * project scope, an unknown key, a malformed template or an empty result.
 */
export function formatEndpointUrl(url: string, subs: UrlSubstitutions): string | null {
  const out = pyFormat(url.replaceAll('$(', '%('), (k) => (Object.hasOwn(subs, k) ? subs[k as keyof UrlSubstitutions] : undefined));
  return out === '' ? null : out;
}

/** Keystone's `check_endpoint_url`: every placeholder must be whitelisted and well formed. */
export function isValidEndpointUrlTemplate(url: string): boolean {
  const known: readonly string[] = URL_PLACEHOLDERS;
  return pyFormat(url.replaceAll('$(', '%('), (k) => (known.includes(k) ? '' : undefined)) !== null;
}
