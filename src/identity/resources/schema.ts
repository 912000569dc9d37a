/**
 * Request validation for domains, projects, users and groups, following Keystone's jsonschemas
 * (keystone/resource/schema.py, keystone/identity/schema.py): every failure is a 400 with
 * Keystone's "Invalid input for field 'x': ..." wording.
 */
import { badRequest } from '../../platform/http/faults.js';
import { invalid } from '../api/validate.js';

type Obj = Record<string, unknown>;

/** Python's repr of a JSON value, as jsonschema messages show it. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return `'${v.length > 64 ? `${v.slice(0, 64)}...` : v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}

const typeError = (field: string, v: unknown, type: string) => invalid(field, `${pyRepr(v)} is not of type '${type}'`);

/** The request body's `{key: {...}}` object; a missing key reads as {} as in Keystone. */
export function bodyObject(body: unknown, key: string): Obj {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest(`Expecting to find ${key} in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);
  const v = (body as Obj)[key];
  if (v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw typeError(key, v, 'object');
  return v as Obj;
}

/** The `{key: {...}}` object for a policy target, before validation (anything else reads as {}). */
export function looseObject(body: unknown, key: string): Obj {
  const v = body && typeof body === 'object' && !Array.isArray(body) ? (body as Obj)[key] : undefined;
  return v && typeof v === 'object' && !Array.isArray(v) ? v as Obj : {};
}

/** Keystone's `minProperties: 1` for updates. */
export function requireSomething(o: Obj): void {
  if (Object.keys(o).length === 0) throw badRequest('{} does not have enough properties');
}

/** A name: string, min..max characters, containing a non-blank character (pattern `[\S]+`). */
export function checkName(o: Obj, field: string, max: number, required: boolean): string | undefined {
  const v = o[field];
  if (v === undefined) {
    if (required) throw invalid(field, `'${field}' is a required property`);
    return undefined;
  }
  if (typeof v !== 'string') throw typeError(field, v, 'string');
  if (v.length < 1) throw invalid(field, `${pyRepr(v)} is too short`);
  if (v.length > max) throw invalid(field, `${pyRepr(v)} is too long`);
  if (!/\S/.test(v)) throw invalid(field, `${pyRepr(v)} does not match '[\\S]+'`);
  return v;
}

/** A description: a string, or null where Keystone allows it. */
export function checkDescription(o: Obj, field = 'description'): string | null | undefined {
  const v = o[field];
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v !== 'string') throw typeError(field, v, 'string');
  return v;
}

/** Keystone's `id_string`: 1..64 characters of [a-zA-Z0-9-]; optionally nullable. */
export function checkIdString(o: Obj, field: string, nullable: boolean): string | null | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (v === null) {
    if (nullable) return null;
    throw typeError(field, v, 'string');
  }
  if (typeof v !== 'string') throw typeError(field, v, 'string');
  if (v.length < 1) throw invalid(field, `${pyRepr(v)} is too short`);
  if (v.length > 64) throw invalid(field, `${pyRepr(v)} is too long`);
  if (!/^[a-zA-Z0-9-]+$/.test(v)) throw invalid(field, `${pyRepr(v)} does not match '^[a-zA-Z0-9-]+$'`);
  return v;
}

/** A boolean field (`enabled`, `is_domain`, ...). */
export function checkBool(o: Obj, field: string): boolean | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw typeError(field, v, 'boolean');
  return v;
}

/** Maximum number of tags on a project, as Keystone's schema. */
export const MAX_TAGS = 80;

/** One project tag: 1..255 characters without '/' or ','. */
export function checkTag(tag: unknown, field = 'tags'): string {
  if (typeof tag !== 'string') throw typeError(field, tag, 'string');
  if (tag.length < 1) throw invalid(field, `${pyRepr(tag)} is too short`);
  if (tag.length > 255) throw invalid(field, `${pyRepr(tag)} is too long`);
  if (/[,/]/.test(tag)) throw invalid(field, `${pyRepr(tag)} does not match '^[^,/]*$'`);
  return tag;
}

/** A list of project tags: at most 80, unique, each valid. */
export function checkTags(v: unknown, field = 'tags'): string[] {
  if (!Array.isArray(v)) throw typeError(field, v, 'array');
  if (v.length > MAX_TAGS) throw invalid(field, `${pyRepr(v)} is too long`);
  const tags = v.map((t) => checkTag(t, field));
  if (new Set(tags).size !== tags.length) throw invalid(field, `${pyRepr(v)} has non-unique elements`);
  return tags;
}

/** Project (and domain) resource options: only `immutable` (boolean or null). */
export function checkProjectOptions(v: unknown): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw typeError('options', v, 'object');
  for (const [k, val] of Object.entries(v as Obj)) {
    if (k !== 'immutable') throw invalid('options', `Additional properties are not allowed ('${k}' was unexpected)`);
    if (val !== null && typeof val !== 'boolean') throw typeError(`options/${k}`, val, 'boolean');
  }
  return v as Obj;
}

const USER_BOOL_OPTIONS = [
  'ignore_change_password_upon_first_use', 'ignore_password_expiry', 'ignore_lockout_failure_attempts',
  'lock_password', 'ignore_user_inactivity', 'multi_factor_auth_enabled',
] as const;

/** Keystone's user options: the boolean ones and `multi_factor_auth_rules` (list of unique non-empty lists of unique strings). */
export function checkUserOptions(v: unknown): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw typeError('options', v, 'object');
  for (const [k, val] of Object.entries(v as Obj)) {
    if ((USER_BOOL_OPTIONS as readonly string[]).includes(k)) {
      if (val !== null && typeof val !== 'boolean') throw typeError(`options/${k}`, val, 'boolean');
    } else if (k === 'multi_factor_auth_rules') {
      if (val !== null) checkMfaRules(val);
    } else {
      throw invalid('options', `Additional properties are not allowed ('${k}' was unexpected)`);
    }
  }
  return v as Obj;
}

function checkMfaRules(val: unknown): void {
  const field = 'options/multi_factor_auth_rules';
  if (!Array.isArray(val)) throw typeError(field, val, 'array');
  const seen = new Set<string>();
  for (const rule of val) {
    if (!Array.isArray(rule)) throw typeError(field, rule, 'array');
    if (rule.length < 1) throw invalid(field, '[] is too short');
    for (const m of rule) if (typeof m !== 'string') throw typeError(field, m, 'string');
    if (new Set(rule).size !== rule.length) throw invalid(field, `${pyRepr(rule)} has non-unique elements`);
    const key = JSON.stringify(rule);
    if (seen.has(key)) throw invalid(field, `${pyRepr(val)} has non-unique elements`);
    seen.add(key);
  }
}

/** Merges option updates as Keystone does: null removes an option, others are set, the rest kept. */
export function mergeOptions(current: Obj, update: Obj): Obj {
  const out = { ...current };
  for (const [k, v] of Object.entries(update)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** A password field: string or null (user create/update). */
export function checkPassword(o: Obj, field = 'password'): string | null | undefined {
  const v = o[field];
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v !== 'string') throw typeError(field, v, "['string', 'null']");
  return v;
}

/** Keystone's `_require_matching_id`: an `id` in the body must be the path's. */
export function requireMatchingId(o: Obj, pathId: string): void {
  if (o.id !== undefined && o.id !== null && o.id !== pathId) {
    throw badRequest('Cannot change ID');
  }
}
