/**
 * Validation of image attributes against the image schema (`api/schemas.ts`), the way Glance does
 * it on `POST /v2/images`: schema violations are 400, read-only / reserved attributes 403, and the
 * `os_glance` namespace is reserved for the service itself. The PATCH path (`patch.ts`) reuses the
 * same checks one attribute at a time.
 */
import { Fault, badRequest, forbidden, tooLarge } from '../platform/http/faults.js';
import {
  BASE_ATTRIBUTES, type PropertySchema, type Visibility, imageProperties, propertySchema,
} from './api/schemas.js';

/** The core attributes a client may set (on create, or by PATCH). */
export interface ImageCoreInput {
  id?: string;
  name?: string | null;
  visibility?: Visibility;
  protected?: boolean;
  os_hidden?: boolean;
  min_ram?: number;
  min_disk?: number;
  disk_format?: string | null;
  container_format?: string | null;
  owner?: string | null;
}

export interface CreateRequest {
  readonly core: ImageCoreInput;
  /** Extra properties, all strings (nullable custom properties given as null are left out). */
  readonly extra: Record<string, string>;
  /** Tags, duplicates dropped (Glance keeps a set), order of first appearance. */
  readonly tags: string[];
}

/** The caller, for the one create check that depends on who asks. */
export interface CreateCaller { readonly isAdmin: boolean; readonly projectId: string | null }

/** Glance's reserved namespace: properties the service sets for itself. */
export const RESERVED_NAMESPACE = 'os_glance';
/** Rejected on create before anything else (Glance: "disallowed"). */
const DISALLOWED_ON_CREATE = ['direct_url', 'self', 'file', 'schema', 'stores'];
/** Attributes only the service sets. */
export const READ_ONLY = new Set([
  'created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size', 'direct_url', 'self', 'file',
  'schema', 'id', 'os_hash_algo', 'os_hash_value', 'stores',
]);
/** Names that may never be used, neither as attributes nor as extra properties. */
export const RESERVED = new Set(['location', 'deleted', 'deleted_at']);
/** Largest value of the integer columns (min_ram, min_disk). */
const MAX_INT32 = 2_147_483_647;
const MAX_KEY_LENGTH = 255;

export const readOnlyFault = (name: string): Fault => forbidden(`Attribute '${name}' is read-only.`);
export const reservedFault = (name: string): Fault => forbidden(`Attribute '${name}' is reserved.`);

export const isReservedName = (name: string): boolean => RESERVED.has(name) || name.startsWith(RESERVED_NAMESPACE);

/** Python's repr() of a JSON value, so messages read like Glance's (jsonschema) ones. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    let out = '';
    for (const ch of v) {
      if (ch === '\\') out += '\\\\';
      else if (ch === quote) out += '\\' + ch;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else if (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) out += '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');
      else out += ch;
    }
    return quote + out + quote;
  }
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (typeof v === 'object') {
    return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ') + '}';
  }
  return String(v);
}

/** Length in code points, as Python (and jsonschema's maxLength) counts it. */
export const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Assignment that also works for keys like `__proto__` (a plain `o[k] = v` would drop it). */
export function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'null': return v === null;
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'array': return Array.isArray(v);
    case 'object': return isPlainObject(v);
    default: return false;
  }
}

/**
 * Checks `value` against one schema fragment (the subset of JSON schema our documents use).
 * Returns the first violation, worded like Python's jsonschema, or null when valid.
 */
export function schemaViolation(schema: PropertySchema, value: unknown): string | null {
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => hasType(value, t))) return `${pyRepr(value)} is not of type ${types.map(pyRepr).join(', ')}`;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value as string | null)) {
    return `${pyRepr(value)} is not one of ${pyRepr(schema.enum)}`;
  }
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && codePoints(value) > schema.maxLength) return `${pyRepr(value)} is too long`;
    if (schema.minLength !== undefined && codePoints(value) < schema.minLength) return `${pyRepr(value)} is too short`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      return `${pyRepr(value)} does not match ${pyRepr(schema.pattern)}`;
    }
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    for (const item of value) {
      const bad = schemaViolation(schema.items, item);
      if (bad) return bad;
    }
  }
  if (isPlainObject(value)) {
    for (const req of schema.required ?? []) {
      if (!Object.hasOwn(value, req)) return `${pyRepr(req)} is a required property`;
    }
    const props = schema.properties ?? {};
    const unexpected: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (Object.hasOwn(props, k)) {
        const bad = schemaViolation(props[k]!, v);
        if (bad) return bad;
      } else if (schema.additionalProperties === false) {
        unexpected.push(k);
      } else if (typeof schema.additionalProperties === 'object') {
        const bad = schemaViolation(schema.additionalProperties, v);
        if (bad) return bad;
      }
    }
    if (unexpected.length > 0) {
      return `Additional properties are not allowed (${unexpected.map(pyRepr).join(', ')} ${unexpected.length === 1 ? 'was' : 'were'} unexpected)`;
    }
  }
  return null;
}

/** 400 when `value` does not fit the schema of the image property `name`. */
export function checkPropertyValue(name: string, value: unknown): void {
  const bad = schemaViolation(propertySchema(name), value);
  if (bad) throw badRequest(`Provided object does not match schema 'image': ${bad}`);
}

/** 400 for a custom property name Glance would not store. */
export function checkExtraKey(key: string): void {
  if (codePoints(key) > MAX_KEY_LENGTH) throw badRequest('Custom property should not be greater than 255 characters.');
  if (key.length === 0) throw badRequest('Custom property name must not be empty.');
}

/** Glance's domain checks on min_ram/min_disk: not negative (and here: fits the integer column). */
export function checkMinimum(param: 'min_ram' | 'min_disk', value: number): void {
  if (value < 0) throw badRequest(`Invalid value '${value}' for parameter '${param}': Cannot be a negative value`);
  if (value > MAX_INT32) throw badRequest(`Invalid value '${value}' for parameter '${param}': Cannot be greater than ${MAX_INT32}`);
}

/** Order-preserving de-duplication of tags (Glance stores them as a set). */
export const uniqueTags = (tags: readonly string[]): string[] => [...new Set(tags)];

/** Number of extra properties that count against `image_property_quota` (os_glance_* do not). */
export const countedProperties = (extra: Readonly<Record<string, unknown>>): number =>
  Object.keys(extra).filter((k) => !k.startsWith(RESERVED_NAMESPACE)).length;

/** 413 when an image would carry more extra properties than `quota` (negative = unlimited). */
export function enforcePropertyQuota(extra: Readonly<Record<string, unknown>>, quota: number): void {
  const attempted = countedProperties(extra);
  if (quota >= 0 && attempted > quota) {
    throw tooLarge('The limit has been exceeded on the number of allowed image properties. '
      + `Attempted: ${attempted}, Maximum: ${quota}`);
  }
}

/** 413 when an image would carry more tags than `quota` (negative = unlimited). */
export function enforceTagQuota(tags: readonly string[], quota: number): void {
  if (quota >= 0 && tags.length > quota) {
    throw tooLarge('The limit has been exceeded on the number of allowed image tags. '
      + `Attempted: ${tags.length}, Maximum: ${quota}`);
  }
}

/** The core attributes a client may give on create; the other base attributes are read-only. */
const CREATE_CORE = ['id', 'name', 'visibility', 'protected', 'os_hidden', 'min_ram', 'min_disk',
  'disk_format', 'container_format', 'owner'] as const;

/**
 * Validates a `POST /v2/images` body in Glance's order: read-only URLs (403), schema (400),
 * custom property names (400), reserved names (403), read-only attributes (403), numeric ranges
 * (400), and — when `caller` is given — a foreign `owner` by a non-admin (403). Quotas and
 * visibility policy are left to the caller (see `enforcePropertyQuota`, `enforceTagQuota`).
 */
export function validateCreate(body: unknown, caller?: CreateCaller): CreateRequest {
  if (body === undefined) throw badRequest('Body expected in request.');
  if (!isPlainObject(body)) throw badRequest('Request body must be a JSON object.');

  for (const key of DISALLOWED_ON_CREATE) if (Object.hasOwn(body, key)) throw readOnlyFault(key);

  for (const [key, value] of Object.entries(body)) checkPropertyValue(key, value);

  const extraKeys = Object.keys(body).filter((k) => !BASE_ATTRIBUTES.has(k));
  for (const key of extraKeys) {
    checkExtraKey(key);
    if (isReservedName(key)) throw reservedFault(key);
  }
  for (const key of Object.keys(body)) {
    if (READ_ONLY.has(key) && key !== 'id') throw readOnlyFault(key);
  }
  // `locations` passes the schema but may only be managed through the (disabled) locations API.
  if (Object.hasOwn(body, 'locations')) throw reservedFault('locations');

  const core: ImageCoreInput = {};
  const src = body as ImageCoreInput & Record<string, unknown>;
  for (const key of CREATE_CORE) {
    if (Object.hasOwn(body, key)) (core as Record<string, unknown>)[key] = src[key];
  }
  if (core.min_ram !== undefined) checkMinimum('min_ram', core.min_ram);
  if (core.min_disk !== undefined) checkMinimum('min_disk', core.min_disk);

  if (caller && !caller.isAdmin && core.owner !== undefined && core.owner !== caller.projectId) {
    throw forbidden(`You are not permitted to create images owned by '${core.owner ?? ''}'.`);
  }

  const extra: Record<string, string> = {};
  for (const key of extraKeys) {
    const value = body[key];
    // Only a nullable custom property (kernel_id, ramdisk_id) can get here with null: "not set".
    if (typeof value === 'string') setOwn(extra, key, value);
  }
  const tags = uniqueTags((body.tags as string[] | undefined) ?? []);
  return { core, extra, tags };
}

/** True when `name` is described by the image schema (base or custom property). */
export const isNamedProperty = (name: string): boolean => Object.hasOwn(imageProperties, name);
