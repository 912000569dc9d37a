/**
 * Parsing of placement's query parameters (`resources`, `required`, `member_of`, `in_tree`), with
 * placement's rules per microversion and its 400 messages. Fastify gives repeated keys as arrays.
 */
import { badRequest } from './faults.js';
import { check, isUuidLike, normalizeUuid, type Schema } from './schema.js';

/** A parsed query string: key → its values in order. */
export type QueryValues = Readonly<Record<string, string | readonly string[] | undefined>>;

export const allValues = (q: QueryValues, key: string): string[] => {
  const v = q[key];
  return v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
};
export const lastValue = (q: QueryValues, key: string): string | undefined => allValues(q, key).at(-1);
export const firstValue = (q: QueryValues, key: string): string | undefined => allValues(q, key)[0];

/** Validates the query against a schema over its last values (what `dict(req.GET)` gives placement). */
export function checkQuery(q: QueryValues, schema: Schema): void {
  const flat: Record<string, string> = {};
  for (const k of Object.keys(q)) { const v = lastValue(q, k); if (v !== undefined) flat[k] = v; }
  const problem = check(flat, schema);
  if (problem) throw badRequest(`Invalid query string parameters: ${problem}`);
}

/** `?resources=VCPU:2,MEMORY_MB:1024` → class → amount (amounts ≥ 1). */
export function parseResources(value: string): Map<string, number> {
  const expected = 'Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024.';
  if (value.trim() === '') throw badRequest(`${expected} Got: empty string.`);
  const out = new Map<string, number>();
  for (const part of value.split(',')) {
    const bits = part.split(':');
    if (bits.length !== 2) throw badRequest(`${expected} Got: ${part}.`);
    const [rc, raw] = bits as [string, string];
    if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw badRequest(`Requested resource ${rc} expected positive integer amount. Got: ${raw}.`);
    const amount = Number(raw.trim());
    if (amount < 1) throw badRequest(`Requested resource ${rc} requires amount >= 1. Got: ${amount}.`);
    out.set(rc, amount);
  }
  return out;
}

/** Required traits as sets of alternatives (all sets must hold), and forbidden traits. */
export interface TraitExpr { readonly required: Set<string>[]; readonly forbidden: Set<string> }

/**
 * One `required` value: `A,!B` (forbidden only with `allowForbidden`, 1.22+) or `in:A,B`
 * (any-of, only with `allowAnyOf`, 1.39+).
 */
export function parseTraitsValue(value: string, allowForbidden: boolean, allowAnyOf: boolean): TraitExpr {
  if (value.startsWith('in:')) {
    if (!allowAnyOf) throw badRequest(`Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: ${value}`);
    const any = new Set(value.slice(3).split(',').map((s) => s.trim()));
    if ([...any].some((t) => !t)) throw badRequest(`Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ${value}`);
    if ([...any].some((t) => t.startsWith('!'))) throw badRequest(`Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: ${value}`);
    return { required: [any], forbidden: new Set() };
  }
  const all = value.split(',').map((s) => s.trim());
  const forbidden = new Set(all.filter((t) => t.startsWith('!')).map((t) => t.replace(/^!+/, '')));
  if (all.some((t) => !t) || [...forbidden].some((t) => !t)) {
    const form = allowForbidden ? 'HW_CPU_X86_VMX,!CUSTOM_MAGIC' : 'HW_CPU_X86_VMX,CUSTOM_MAGIC';
    throw badRequest(`Invalid query string parameters: Expected 'required' parameter value of the form: ${form}. Got an empty trait in: ${value}`);
  }
  if (forbidden.size && !allowForbidden) {
    throw badRequest(`Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${value}`);
  }
  return { required: all.filter((t) => !t.startsWith('!')).map((t) => new Set([t])), forbidden };
}

/** All `required<suffix>` values of a request: repeated keys count from 1.39 (before, the last one wins). */
export function parseTraitsParams(q: QueryValues, key: string, minor: number): TraitExpr {
  let values = allValues(q, key);
  if (minor < 39) values = values.slice(-1);
  const out: TraitExpr = { required: [], forbidden: new Set() };
  for (const v of values) {
    const e = parseTraitsValue(v, minor >= 22, minor >= 39);
    out.required.push(...e.required);
    for (const f of e.forbidden) out.forbidden.add(f);
  }
  return out;
}

/** Required aggregate sets (any one of each, all sets) and forbidden aggregates. */
export interface AggregateExpr { readonly memberOf: Set<string>[]; readonly forbidden: Set<string> }

/** One `member_of` value: `U`, `!U`, `in:U1,U2` or `!in:U1,U2`. */
export function parseMemberOfValue(value: string): AggregateExpr {
  if (value.includes(',') && !value.startsWith('in:') && !value.startsWith('!in:')) {
    throw badRequest(`Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: ${value}`);
  }
  let required = new Set<string>();
  let forbidden = new Set<string>();
  if (value.startsWith('!in:')) forbidden = new Set(value.slice(4).split(','));
  else if (value.startsWith('!')) forbidden = new Set([value.slice(1)]);
  else if (value.startsWith('in:')) required = new Set(value.slice(3).split(','));
  else required = new Set([value]);
  for (const u of [...required, ...forbidden]) {
    if (!isUuidLike(u)) throw badRequest(`Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${u}`);
  }
  return { memberOf: required.size ? [new Set([...required].map(normalizeUuid))] : [], forbidden: new Set([...forbidden].map(normalizeUuid)) };
}

/** All `member_of<suffix>` values: several only from 1.24, forbidden (`!`) only from 1.32. */
export function parseMemberOfParams(q: QueryValues, key: string, minor: number): AggregateExpr {
  const values = allValues(q, key);
  const suffix = key.slice('member_of'.length);
  if (minor < 24 && values.length > 1) throw badRequest(`Multiple member_of${suffix} parameters are not supported`);
  const out: AggregateExpr = { memberOf: [], forbidden: new Set() };
  for (const v of values) {
    const e = parseMemberOfValue(v);
    out.memberOf.push(...e.memberOf);
    if (e.forbidden.size) {
      if (minor < 32) throw badRequest(`Forbidden member_of${suffix} parameters are not supported in the specified microversion`);
      for (const f of e.forbidden) out.forbidden.add(f);
    }
  }
  return out;
}

/** An `in_tree` value: a provider uuid. */
export function parseInTree(value: string): string {
  const v = value.trim();
  if (!isUuidLike(v)) throw badRequest(`Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: ${value}`);
  return normalizeUuid(v);
}
