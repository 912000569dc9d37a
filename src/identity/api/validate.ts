import { badRequest } from '../../platform/http/faults.js';

/** Keystone-style schema failures: "Invalid input for field 'x': …". */
export const invalid = (field: string, why: string) => badRequest(`Invalid input for field '${field}': ${why}`);

/** The request body's top-level object `key` (e.g. {"user": {...}}), or a 400. */
export function entityBody(body: unknown, key: string): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`Expecting to find ${key} in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);
  const v = (body as Record<string, unknown>)[key];
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(key, `${JSON.stringify(v ?? null)} is not of type 'object'`);
  return v as Record<string, unknown>;
}

interface StrOpts { required?: boolean; max?: number; min?: number; nullable?: boolean; pattern?: RegExp }

/** A string field: type, length (Keystone's 1..255 for names by default when max given). */
export function str(o: Record<string, unknown>, field: string, opts: StrOpts = {}): string | null | undefined {
  const v = o[field];
  if (v === undefined) {
    if (opts.required) throw invalid(field, `'${field}' is a required property`);
    return undefined;
  }
  if (v === null) {
    if (opts.nullable) return null;
    throw invalid(field, `None is not of type 'string'`);
  }
  if (typeof v !== 'string') throw invalid(field, `${JSON.stringify(v)} is not of type 'string'`);
  if (opts.min !== undefined && v.length < opts.min) throw invalid(field, `'${v}' is too short`);
  if (opts.max !== undefined && v.length > opts.max) throw invalid(field, `'${v.slice(0, 40)}…' is too long`);
  if (opts.pattern && !opts.pattern.test(v)) throw invalid(field, `'${v}' does not match '${opts.pattern.source}'`);
  return v;
}

/** A name: a non-blank string of 1..255 characters (Keystone rejects empty and whitespace-only names). */
export function name(o: Record<string, unknown>, field = 'name', required = true): string | undefined {
  const v = str(o, field, { required, min: 1, max: 255 });
  if (v === undefined || v === null) return undefined;
  if (v.trim() === '') throw invalid(field, `'${v}' does not match '^[\\S]+.*'`);
  return v;
}

/** A boolean field. */
export function boolField(o: Record<string, unknown>, field: string, required = false): boolean | undefined {
  const v = o[field];
  if (v === undefined) {
    if (required) throw invalid(field, `'${field}' is a required property`);
    return undefined;
  }
  if (typeof v !== 'boolean') throw invalid(field, `${JSON.stringify(v)} is not of type 'boolean'`);
  return v;
}

/** An id-ish reference field (string of 1..64) or null when nullable. */
export function idField(o: Record<string, unknown>, field: string, opts: { required?: boolean; nullable?: boolean } = {}): string | null | undefined {
  return str(o, field, { ...opts, min: 1, max: 64 });
}

/** The extra attributes a body carries beyond the known ones (Keystone keeps them in `extra`). */
export function extraOf(o: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!known.includes(k) && k !== 'links' && k !== 'id') out[k] = v;
  return out;
}
