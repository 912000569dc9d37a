/**
 * The subset of JSON Schema (draft 4) that placement's request schemas use: types, properties,
 * required, additional and pattern properties, bounds, lengths, patterns, enums, unique items
 * and the `uuid` format. `check` returns the first violation as placement words it, so a bad
 * body is a 400 naming the field, never an exception deeper in.
 */

/** A schema node. */
export interface Schema {
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly patternProperties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: boolean;
  readonly required?: readonly string[];
  readonly minProperties?: number;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly uniqueItems?: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly enum?: readonly unknown[];
  readonly format?: 'uuid';
  readonly anyOf?: readonly Schema[];
}

export type JsonType = 'string' | 'integer' | 'number' | 'object' | 'array' | 'null' | 'boolean';

const regexCache = new Map<string, RegExp>();
const regex = (p: string): RegExp => {
  let r = regexCache.get(p);
  if (!r) { r = new RegExp(p, 'u'); regexCache.set(p, r); }
  return r;
};

/**
 * oslo's is_uuid_like: 32 hex digits once dashes, braces and a `urn:`/`uuid:` prefix are
 * dropped, in the usual 8-4-4-4-12 grouping when dashed.
 */
export function isUuidLike(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const s = v.toLowerCase().replace(/^urn:/, '').replace(/^uuid:/, '').replace(/^\{(.*)\}$/, '$1');
  if (/^[0-9a-f]{32}$/.test(s)) return true;
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s);
}

/** The canonical (lowercase, dashed) form of a uuid-like string. */
export function normalizeUuid(v: string): string {
  const hex = v.toLowerCase().replace(/^urn:/, '').replace(/^uuid:/, '').replace(/[{}-]/g, '');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const typeOf = (v: unknown): JsonType => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as JsonType;
};

/** A value as Python's repr shows it (jsonschema's messages are written with it), shortened. */
function pyRepr(v: unknown, depth = 0): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return String(v);
  if (depth > 3) return '...';
  if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x, depth + 1)).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x, depth + 1)}`).join(', ')}}`;
  return String(v);
}
const show = (v: unknown): string => { const r = pyRepr(v); return r.length > 200 ? `${r.slice(0, 200)}…` : r; };

function matchesType(v: unknown, t: JsonType | readonly JsonType[]): boolean {
  const actual = typeOf(v);
  const wanted = typeof t === 'string' ? [t] : t;
  return wanted.some((w) => w === actual || (w === 'number' && actual === 'integer'));
}

const deepEqual = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A violation: jsonschema's message and the keyword that failed. */
export interface Violation { readonly message: string; readonly keyword: string; readonly schemaPath?: string }

/** The first violation of `schema` by `value`, worded like jsonschema's messages, or undefined. */
export function check(value: unknown, schema: Schema, path = ''): string | undefined {
  const v = violation(value, schema, path);
  return v ? `${v.message}\n\nFailed validating '${v.keyword}' in schema${v.schemaPath ?? ''}` : undefined;
}

/** The first violation of `schema` by `value`, or undefined. */
export function violation(value: unknown, schema: Schema, path = '', sp = ''): Violation | undefined {
  const inner = violationHere(value, schema, path, sp);
  return inner && inner.schemaPath === undefined ? { ...inner, schemaPath: sp } : inner;
}

function violationHere(value: unknown, schema: Schema, path: string, sp: string): Violation | undefined {
  const at = path ? ` at ${path}` : '';
  if (schema.anyOf) {
    if (!schema.anyOf.some((s, i) => violation(value, s, path, `${sp}['anyOf'][${i}]`) === undefined)) return { message: `${show(value)} is not valid under any of the given schemas${at}`, keyword: 'anyOf' };
  }
  if (schema.type !== undefined && !matchesType(value, schema.type)) {
    const t = typeof schema.type === 'string' ? `'${schema.type}'` : schema.type.map((x) => `'${x}'`).join(', ');
    return { message: `${show(value)} is not of type ${t}${at}`, keyword: 'type' };
  }
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) return { message: `${show(value)} is not one of ${show(schema.enum)}${at}`, keyword: 'enum' };
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < schema.minLength) return { message: `${show(value)} is too short${at}`, keyword: 'minLength' };
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return { message: `${show(value)} is too long${at}`, keyword: 'maxLength' };
    if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) return { message: `${show(value)} does not match '${schema.pattern}'${at}`, keyword: 'pattern' };
    if (schema.format === 'uuid' && !isUuidLike(value)) return { message: `${show(value)} is not a 'uuid'${at}`, keyword: 'format' };
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return { message: `${value} is less than the minimum of ${schema.minimum}${at}`, keyword: 'minimum' };
    if (schema.maximum !== undefined && value > schema.maximum) return { message: `${value} is greater than the maximum of ${schema.maximum}${at}`, keyword: 'maximum' };
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return { message: `${show(value)} is too short${at}`, keyword: 'minItems' };
    if (schema.uniqueItems) {
      const seen = new Set<string>();
      for (const item of value) {
        const k = JSON.stringify(item);
        if (seen.has(k)) return { message: `${show(value)} has non-unique elements${at}`, keyword: 'uniqueItems' };
        seen.add(k);
      }
    }
    if (schema.items) {
      for (let i = 0; i < value.length; i++) {
        const e = violation(value[i], schema.items, `${path}[${i}]`, `${sp}['items']`);
        if (e) return e;
      }
    }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    for (const r of schema.required ?? []) if (!Object.hasOwn(obj, r)) return { message: `'${r}' is a required property${at}`, keyword: 'required' };
    if (schema.minProperties !== undefined && keys.length < schema.minProperties) return { message: `${show(value)} does not have enough properties${at}`, keyword: 'minProperties' };
    const extra: string[] = [];
    for (const k of keys) {
      let matched = false;
      const prop = schema.properties && Object.hasOwn(schema.properties, k) ? schema.properties[k] : undefined;
      if (prop) {
        matched = true;
        const e = violation(obj[k], prop, path ? `${path}.${k}` : k, `${sp}['properties']['${k}']`);
        if (e) return e;
      }
      for (const [p, s] of Object.entries(schema.patternProperties ?? {})) {
        if (!regex(p).test(k)) continue;
        matched = true;
        const e = violation(obj[k], s, path ? `${path}.${k}` : k, `${sp}['patternProperties']['${p}']`);
        if (e) return e;
      }
      if (!matched) extra.push(k);
    }
    if (schema.additionalProperties === false && extra.length) {
      if (schema.patternProperties && Object.keys(schema.patternProperties).length) {
        const regexes = Object.keys(schema.patternProperties).map((p) => `'${p}'`).join(', ');
        return { message: `${extra.map((k) => show(k)).join(', ')} ${extra.length > 1 ? 'do' : 'does'} not match any of the regexes: ${regexes}${at}`, keyword: 'additionalProperties' };
      }
      return { message: `Additional properties are not allowed (${extra.map((k) => show(k)).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)${at}`, keyword: 'additionalProperties' };
    }
  }
  return undefined;
}
