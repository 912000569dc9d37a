/**
 * Policy targets built the way Keystone's RBAC enforcer does: the route's view arguments,
 * `target` (the entity acted on, or an explicit target attribute) and the list filters from
 * the query string, all flattened into `a.b.c` keys as well (oslo.policy substitutes
 * `%(target.user.domain_id)s` from the flat keys).
 */
export function policyTarget(parts: {
  view?: Record<string, unknown>;
  target?: Record<string, unknown>;
  filters?: Record<string, unknown>;
}): Record<string, unknown> {
  const dict: Record<string, unknown> = { ...(parts.view ?? {}) };
  if (parts.target) dict.target = parts.target;
  Object.assign(dict, parts.filters ?? {});
  return { ...dict, ...flatten(dict) };
}

/** Keystone's `flatten_dict`: nested objects become dotted keys; arrays and scalars stay values. */
export function flatten(d: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}

/** The list filters named in `allowed` that are present in the query (Keystone passes them to policy). */
export function filterValues(query: Record<string, unknown>, allowed: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of allowed) {
    const v = query[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? v[0] : v;
  }
  return out;
}
