/**
 * Request validation the way Nova does it: JSON schemas (a subset of draft 2020-12 — the keywords
 * Nova's schemas use) checked by a small validator whose failures read like Nova's:
 * "Invalid input for field/attribute <field>. Value: <value>. <jsonschema message>", a bare
 * jsonschema message at the top level, and the InvalidName wording for `format: name`.
 * As in Nova, `minimum`/`maximum` also apply to numeric strings ("10" is 10).
 */
import { badRequest } from '../faults.js';

/** The schema keywords Nova's compute schemas use. */
export interface Schema {
  readonly type?: JsonType | readonly JsonType[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly format?: Format;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly patternProperties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly allOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
}

export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'object' | 'array';
export type Format = 'name' | 'name_with_leading_trailing_spaces' | 'az_name' | 'uuid';

/** A failed check: where (path of keys/indexes) and jsonschema's message. */
interface Failure { readonly path: readonly (string | number)[]; readonly message: string; readonly instance: unknown; readonly nameReason?: string }

/** How deep a request body may nest (Nova's bodies go a few levels; deeper is hostile). */
export const MAX_BODY_DEPTH = 64;

/** Python's repr of a JSON value (jsonschema messages show values that way); nesting past `depth` levels shows as `...`. */
export function pyRepr(v: unknown, depth = MAX_BODY_DEPTH): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'object' && depth <= 0) return Array.isArray(v) ? '[...]' : '{...}';
  if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x, depth - 1)).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as object).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x, depth - 1)}`).join(', ')}}`;
  return String(v);
}

/** Whether a JSON value nests deeper than `max` arrays/objects (walked without recursion). */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d >= max) return true;
    for (const y of Array.isArray(x) ? x : Object.values(x)) if (typeof y === 'object' && y !== null) stack.push([y, d + 1]);
  }
  return false;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeMatches(type: JsonType, v: unknown): boolean {
  switch (type) {
    case 'string': return typeof v === 'string';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    case 'array': return Array.isArray(v);
    case 'object': return isObject(v);
  }
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => jsonEqual((a as any)[k], (b as any)[k]));
}

/** Python's `re.search` with a JS regex (Nova patterns are anchored where it matters). */
const regexCache = new Map<string, RegExp>();
function search(pattern: string, s: string): boolean {
  let re = regexCache.get(pattern);
  if (!re) { re = new RegExp(pattern, 'u'); regexCache.set(pattern, re); }
  return re.test(s);
}

// Nova's printable characters: not a control/format/unassigned character (C*), not a line or
// paragraph separator; only the Basic Multilingual Plane (Nova builds its ranges up to U+FFFF).
const PRINTABLE = '[^\\p{C}\\p{Zl}\\p{Zp}\\u{10000}-\\u{10FFFF}]';
const EDGE_OK = '[^\\p{C}\\p{Z}\\u{10000}-\\u{10FFFF}]';
const NAME_RE = new RegExp(`^(?:${EDGE_OK}(?:${PRINTABLE}*${EDGE_OK})?)?$`, 'u');
const NAME_SPACES_RE = new RegExp(`^${PRINTABLE}*${EDGE_OK}${PRINTABLE}*$`, 'u');
const AZ_PRINTABLE = '[^\\p{C}\\p{Zl}\\p{Zp}:\\u{10000}-\\u{10FFFF}]';
const AZ_EDGE_OK = '[^\\p{C}\\p{Z}:\\u{10000}-\\u{10FFFF}]';
const AZ_NAME_RE = new RegExp(`^(?:${AZ_EDGE_OK}(?:${AZ_PRINTABLE}*${AZ_EDGE_OK})?)?$`, 'u');
const UUID_RE = /^(?:[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|\{[0-9a-fA-F-]{36}\}|urn:uuid:[0-9a-fA-F-]{36})$/;

const NAME_REASON = 'printable characters. Can not start or end with whitespace.';
const NAME_SPACES_REASON = 'printable characters with at least one non space character';
const AZ_REASON = 'printable characters except :.Can not start or end with whitespace.';

/** Whether `s` is a name as Nova's `name` format accepts it (used for checks outside schemas too). */
export const isValidName = (s: string): boolean => NAME_RE.test(s);

function checkFormat(format: Format, v: unknown): { ok: true } | { ok: false; reason?: string } {
  if (typeof v !== 'string') return format === 'uuid' ? { ok: true } : { ok: false, reason: format === 'az_name' ? AZ_REASON : NAME_REASON };
  switch (format) {
    case 'name': return NAME_RE.test(v) ? { ok: true } : { ok: false, reason: NAME_REASON };
    case 'name_with_leading_trailing_spaces': return NAME_SPACES_RE.test(v) ? { ok: true } : { ok: false, reason: NAME_SPACES_REASON };
    case 'az_name': return AZ_NAME_RE.test(v) ? { ok: true } : { ok: false, reason: AZ_REASON };
    case 'uuid': return UUID_RE.test(v) ? { ok: true } : { ok: false };
  }
}

/** A number from a JSON number or a numeric string (Nova's minimum/maximum do this), else undefined. */
function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

const fmtNum = (n: number): string => (Number.isInteger(n) ? String(n) : String(n));

/** The first failure of `v` against `s` (jsonschema reports the first error it meets), or undefined. */
function firstFailure(s: Schema, v: unknown, path: (string | number)[]): Failure | undefined {
  const fail = (message: string, extra: Partial<Failure> = {}): Failure => ({ path, message, instance: v, ...extra });
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as JsonType[];
    if (!types.some((t) => typeMatches(t, v))) {
      return fail(types.length === 1 ? `${pyRepr(v)} is not of type '${types[0]}'` : `${pyRepr(v)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`);
    }
  }
  if (s.enum && !s.enum.some((e) => jsonEqual(e, v))) return fail(`${pyRepr(v)} is not one of ${pyRepr(s.enum)}`);
  if ('const' in s && !jsonEqual(s.const, v)) return fail(`${pyRepr(s.const)} was expected`);
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.minLength !== undefined && len < s.minLength) return fail(s.minLength === 1 ? `${pyRepr(v)} should be non-empty` : `${pyRepr(v)} is too short`);
    if (s.maxLength !== undefined && len > s.maxLength) return fail(`${pyRepr(v)} is too long`);
    if (s.pattern !== undefined && !search(s.pattern, v)) return fail(`${pyRepr(v)} does not match ${pyRepr(s.pattern)}`);
  }
  if (s.format !== undefined) {
    const r = checkFormat(s.format, v);
    if (!r.ok) return fail(`${pyRepr(v)} is not a ${pyRepr(s.format)}`, r.reason ? { nameReason: r.reason } : {});
  }
  const n = typeof v === 'boolean' ? undefined : numeric(v);
  if (n !== undefined) {
    if (s.minimum !== undefined && n < s.minimum) return fail(`${pyRepr(v)} is less than the minimum of ${fmtNum(s.minimum)}`);
    if (s.exclusiveMinimum !== undefined && n <= s.exclusiveMinimum) return fail(`${pyRepr(v)} is less than or equal to the minimum of ${fmtNum(s.exclusiveMinimum)}`);
    if (s.maximum !== undefined && n > s.maximum) return fail(`${pyRepr(v)} is greater than the maximum of ${fmtNum(s.maximum)}`);
  }
  if (isObject(v)) {
    const keys = Object.keys(v);
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      if (Object.hasOwn(v, k)) {
        const f = firstFailure(sub, v[k], [...path, k]);
        if (f) return f;
      }
    }
    for (const [pat, sub] of Object.entries(s.patternProperties ?? {})) {
      for (const k of keys) {
        if (!search(pat, k)) continue;
        const f = firstFailure(sub, v[k], [...path, k]);
        if (f) return f;
      }
    }
    for (const r of s.required ?? []) if (!Object.hasOwn(v, r)) return fail(`${pyRepr(r)} is a required property`);
    if (s.additionalProperties !== undefined && s.additionalProperties !== true) {
      const patterns = Object.keys(s.patternProperties ?? {});
      // Own properties only: a body key `__proto__` or `constructor` is not a property the schema names.
      const extra = keys.filter((k) => !(s.properties && Object.hasOwn(s.properties, k)) && !patterns.some((p) => search(p, k)));
      if (extra.length) {
        if (s.additionalProperties === false) {
          if (patterns.length) {
            const sorted = [...extra].sort();
            return fail(`${sorted.map(pyRepr).join(', ')} ${sorted.length === 1 ? 'does' : 'do'} not match any of the regexes: ${patterns.map(pyRepr).join(', ')}`);
          }
          return fail(`Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
        }
        for (const k of extra) {
          const f = firstFailure(s.additionalProperties, v[k], [...path, k]);
          if (f) return f;
        }
      }
    }
    if (s.minProperties !== undefined && keys.length < s.minProperties) return fail(s.minProperties === 1 ? `${pyRepr(v)} should be non-empty` : `${pyRepr(v)} does not have enough properties`);
    if (s.maxProperties !== undefined && keys.length > s.maxProperties) return fail(`${pyRepr(v)} has too many properties`);
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) return fail(`${pyRepr(v)} is too short`);
    if (s.maxItems !== undefined && v.length > s.maxItems) return fail(`${pyRepr(v)} is too long`);
    if (s.items) {
      for (let i = 0; i < v.length; i++) {
        const f = firstFailure(s.items, v[i], [...path, i]);
        if (f) return f;
      }
    }
  }
  for (const sub of s.allOf ?? []) {
    const f = firstFailure(sub, v, path);
    if (f) return f;
  }
  if (s.anyOf && !s.anyOf.some((sub) => !firstFailure(sub, v, path))) {
    // jsonschema reports the best sub-error when all alternatives fail on the same instance.
    const subs = s.anyOf.map((sub) => firstFailure(sub, v, path)!);
    return subs.find((f) => f.nameReason) ?? fail(`${pyRepr(v)} is not valid under any of the given schemas`);
  }
  if (s.oneOf) {
    const results = s.oneOf.map((sub) => firstFailure(sub, v, path));
    const passing = results.filter((r) => !r).length;
    if (passing === 0) return results.find((f) => f?.nameReason) ?? fail(`${pyRepr(v)} is not valid under any of the given schemas`);
    if (passing > 1) return fail(`${pyRepr(v)} is valid under each of ${s.oneOf.map(pyRepr).join(', ')}`);
  }
  return undefined;
}

/** Python's str() of a JSON value (Nova formats the offending value with %s). */
const pyStr = (v: unknown): string => (typeof v === 'string' ? v : pyRepr(v));

/** Nova's message for a failure of a request body. */
function bodyMessage(f: Failure): string {
  if (f.nameReason) return `An invalid 'name' value was provided. The name must be: ${f.nameReason}`;
  if (f.path.length === 0) return f.message;
  return `Invalid input for field/attribute ${String(f.path[f.path.length - 1])}. Value: ${pyStr(f.instance)}. ${f.message}`;
}

/** Validates a request body; a failure is a 400 badRequest with Nova's wording. A body nested past MAX_BODY_DEPTH is refused first. */
export function validateBody(schema: Schema, body: unknown): void {
  if (nestsDeeperThan(body, MAX_BODY_DEPTH)) throw badRequest(`Malformed request body: nested deeper than ${MAX_BODY_DEPTH} levels`);
  const f = firstFailure(schema, body, []);
  if (f) throw badRequest(bodyMessage(f));
}

/** Query parameters as Nova's query schemas see them: every value a list of strings. */
export type QueryLists = Record<string, string[]>;

/** Normalises Fastify's parsed query (string or string[] per key) to lists. */
export function queryLists(query: unknown): QueryLists {
  const out: QueryLists = {};
  if (!isObject(query)) return out;
  for (const [k, v] of Object.entries(query)) out[k] = Array.isArray(v) ? v.map(String) : [String(v)];
  return out;
}

/**
 * Validates query parameters against a Nova query schema (properties are `multi_params` lists);
 * failures read "Invalid input for query parameters <name>. Value: …".
 */
export function validateQuery(schema: Schema, query: QueryLists): void {
  const f = firstFailure(schema, query, []);
  if (!f) return;
  if (f.path.length === 0) throw badRequest(f.message);
  throw badRequest(`Invalid input for query parameters ${String(f.path[0])}. Value: ${pyStr(f.instance)}. ${f.message}`);
}

// ---- Nova's parameter types (nova/api/validation/parameter_types.py) ----

export const multiParams = (items: Schema): Schema => ({ type: 'array', items });
export const singleParam = (s: Schema): Schema => ({ type: 'array', items: s, maxItems: 1 });
export const commonQueryParam = multiParams({ type: 'string' });

export const booleanParam: Schema = {
  type: ['boolean', 'string'],
  enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes',
    false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
};
export const nonNegativeInteger: Schema = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0, minLength: 1 };
export const positiveInteger: Schema = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1, minLength: 1 };
export const name: Schema = { type: 'string', format: 'name', minLength: 1, maxLength: 255 };
export const nameWithSpaces: Schema = { type: 'string', format: 'name_with_leading_trailing_spaces', minLength: 1, maxLength: 255 };
export const azName: Schema = { type: 'string', format: 'az_name', minLength: 1, maxLength: 255 };
export const fqdn: Schema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' };
export const METADATA_KEY = '^[a-zA-Z0-9-_:. ]{1,255}$';
export const metadata: Schema = { type: 'object', patternProperties: { [METADATA_KEY]: { type: 'string', maxLength: 255 } }, additionalProperties: false };
export const metadataWithNull: Schema = { type: 'object', patternProperties: { [METADATA_KEY]: { type: ['string', 'null'], maxLength: 255 } }, additionalProperties: false };
export const paginationParameters: Record<string, Schema> = { limit: multiParams(nonNegativeInteger), marker: multiParams({ type: 'string' }) };

/** oslo's strutils.bool_from_string(strict=True) for the values `booleanParam` admits. */
export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (['true', '1', 'on', 'yes', 't', 'y'].includes(s)) return true;
  if (['false', '0', 'off', 'no', 'f', 'n'].includes(s)) return false;
  throw badRequest(`Unrecognized value '${String(v)}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`);
}
