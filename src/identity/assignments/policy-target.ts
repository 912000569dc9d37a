/**
 * The data oslo.policy sees as `target` in Keystone: the URL's view arguments and any listed
 * query filters at the top level, and the entities under `target` — both nested and flattened
 * (`target.user.domain_id`), as Keystone's enforcer flattens its policy dict.
 */
export function policyTarget(
  target: Record<string, unknown> | undefined,
  viewArgs: Record<string, unknown> = {},
  filters: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...viewArgs, ...filters };
  if (target) {
    out.target = target;
    flattenInto(out, 'target', target);
  }
  return out;
}

function flattenInto(out: Record<string, unknown>, prefix: string, value: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(value)) {
    const key = `${prefix}.${k}`;
    if (v && typeof v === 'object' && !Array.isArray(v)) flattenInto(out, key, v as Record<string, unknown>);
    else out[key] = v;
  }
}

/** The values of the listed query parameters that are present (Keystone passes them to policy). */
export function filterValues(query: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of names) if (query[n] !== undefined) out[n] = firstValue(query[n]);
  return out;
}

/** A query parameter's first value as a string (Flask's `args.get`). */
export function firstValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return String(Array.isArray(v) ? v[0] : v);
}
