/**
 * Request bodies of the metadef API: present, an object, free of read-only attributes (403, as
 * Glance), valid against the served schema document (400), then reduced to the values stored.
 * Nested names are bounded here too (Glance leaves that to the database, whose error would be a 500).
 */
import { badRequest, forbidden } from '../../platform/http/faults.js';
import { firstViolation } from './json-schema.js';
import { propertySchema, type SchemaDoc } from './schemas.js';
import type { AssociationValues, ObjectValues } from './store.js';

export const NAME_MAX = 80;
type Json = Record<string, unknown>;

/** The JSON object a request carries, after the read-only and schema checks. */
export function bodyOf(body: unknown, schema: SchemaDoc, readOnly: readonly string[]): Json {
  if (body === undefined || body === null) throw badRequest('Body expected in request.');
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
  const obj = body as Json;
  for (const key of readOnly) if (Object.prototype.hasOwnProperty.call(obj, key)) throw forbidden(`Attribute '${key}' is read-only.`);
  conform(obj, schema);
  return obj;
}

/** 400 unless `value` matches `schema`. */
export function conform(value: unknown, schema: SchemaDoc): void {
  const violation = firstViolation(value, schema);
  if (violation) throw badRequest(`Provided object does not match schema '${String(schema.name)}': ${violation}`);
}

function bounded(what: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== 'string') throw badRequest(`${what} must be a string.`);
  if ([...value].length > NAME_MAX) throw badRequest(`${what} is longer than ${NAME_MAX} characters.`);
  if (value === '' && !allowEmpty) throw badRequest(`${what} must not be empty.`);
  return value;
}

const optionalString = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The attributes a property definition keeps (Glance's PropertyType model; unknown keys are dropped). */
const DEFINITION_KEYS = [
  'type', 'title', 'description', 'operators', 'default', 'readonly', 'minimum', 'maximum', 'enum', 'pattern',
  'minLength', 'maxLength', 'confidential', 'items', 'uniqueItems', 'minItems', 'maxItems', 'additionalItems',
];

/** A property definition as stored: its known attributes, without the name. */
export function definitionOf(value: Json): Json {
  const out: Json = {};
  for (const k of DEFINITION_KEYS) if (value[k] !== undefined) out[k] = value[k];
  if (out.items && typeof out.items === 'object') {
    const items = out.items as Json;
    out.items = Object.fromEntries(Object.entries({ type: items.type, enum: items.enum }).filter(([, v]) => v !== undefined));
  }
  return out;
}

/** A map of named property definitions (namespace or object `properties`), each checked as a property. */
export function propertiesOf(value: unknown): Record<string, Json> {
  if (value === undefined || value === null) return {};
  // fromEntries: a property called "__proto__" stays an ordinary key.
  return Object.fromEntries(Object.entries(value as Json).map(([name, def]) => {
    bounded('Property name', name);
    conform(def, propertySchema(false));
    return [name, definitionOf(def as Json)];
  }));
}

export function objectValuesOf(o: Json): ObjectValues {
  return {
    name: bounded('Object name', o.name),
    description: optionalString(o.description),
    required: Array.isArray(o.required) ? (o.required as string[]) : [],
    properties: propertiesOf(o.properties),
  };
}

export function associationValuesOf(a: Json): AssociationValues {
  const opt = (what: string, v: unknown) => (v === undefined || v === null ? null : bounded(what, v, true));
  return {
    name: bounded('Resource type name', a.name),
    prefix: opt('Prefix', a.prefix),
    properties_target: opt('Properties target', a.properties_target),
  };
}

export const tagNameOf = (t: Json): string => bounded('Tag name', t.name);
