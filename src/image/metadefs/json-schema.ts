/**
 * A small JSON-schema (draft 4) validator for exactly the keywords the metadef documents use
 * (`schemas.ts`): type, enum, properties, required, additionalProperties, items, $ref into
 * `#/definitions`, allOf, length/size bounds, minimum/maximum and uniqueItems. Request bodies
 * are checked against the served documents, so the two cannot drift apart.
 */
import type { SchemaDoc } from './schemas.js';

/** Python-like rendering of a value, so messages read like Glance's (jsonschema) ones. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return String(v);
}

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'string': return typeof v === 'string';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    case 'array': return Array.isArray(v);
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    default: return true;
  }
}

/** Deep equality of JSON values (enum membership, uniqueItems). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => jsonEqual((a as any)[k], (b as any)[k]));
}

const MAX_DEPTH = 32;

/**
 * The first violation of `schema` by `value` (described as jsonschema would), or null. `root`
 * is the document `$ref`s resolve against.
 */
export function firstViolation(value: unknown, schema: SchemaDoc, root: SchemaDoc = schema, depth = 0): string | null {
  if (depth > MAX_DEPTH) return 'Input is nested too deeply';
  const s = schema as Record<string, any>;
  if (typeof s.$ref === 'string') {
    const m = /^#\/definitions\/(.+)$/.exec(s.$ref);
    const target = m ? (root.definitions as Record<string, SchemaDoc> | undefined)?.[m[1]] : undefined;
    if (!target) return `Unresolvable reference ${s.$ref}`;
    return firstViolation(value, target, root, depth + 1);
  }
  if (Array.isArray(s.allOf)) {
    for (const sub of s.allOf) {
      const v = firstViolation(value, sub, root, depth + 1);
      if (v) return v;
    }
  }
  if (s.type !== undefined) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => typeMatches(t, value))) {
      return `${pyRepr(value)} is not of type ${types.map((t) => pyRepr(t)).join(', ')}`;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => jsonEqual(e, value))) {
    return `${pyRepr(value)} is not one of ${pyRepr(s.enum)}`;
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (typeof s.maxLength === 'number' && len > s.maxLength) return `${pyRepr(value)} is too long`;
    if (typeof s.minLength === 'number' && len < s.minLength) return `${pyRepr(value)} is too short`;
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) return `${value} is less than the minimum of ${s.minimum}`;
    if (typeof s.maximum === 'number' && value > s.maximum) return `${value} is greater than the maximum of ${s.maximum}`;
  }
  if (Array.isArray(value)) {
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) return `${pyRepr(value)} is too long`;
    if (typeof s.minItems === 'number' && value.length < s.minItems) return `${pyRepr(value)} is too short`;
    if (s.uniqueItems === true && value.some((x, i) => value.findIndex((y) => jsonEqual(x, y)) !== i)) {
      return `${pyRepr(value)} has non-unique elements`;
    }
    if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) {
      for (const item of value) {
        const v = firstViolation(item, s.items, root, depth + 1);
        if (v) return v;
      }
    }
  }
  if (typeTest(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of (s.required as string[] | undefined) ?? []) {
      if (!Object.prototype.hasOwnProperty.call(obj, r)) return `${pyRepr(r)} is a required property`;
    }
    const props = (s.properties ?? {}) as Record<string, SchemaDoc>;
    for (const [k, v] of Object.entries(obj)) {
      if (Object.prototype.hasOwnProperty.call(props, k)) {
        const err = firstViolation(v, props[k], root, depth + 1);
        if (err) return err;
      } else if (s.additionalProperties === false) {
        return `Additional properties are not allowed (${pyRepr(k)} was unexpected)`;
      } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        const err = firstViolation(v, s.additionalProperties, root, depth + 1);
        if (err) return err;
      }
    }
  }
  return null;
}

const typeTest = (v: unknown): boolean => typeMatches('object', v);
