import { badRequest } from '../../platform/http/faults.js';
import type { TokenContext } from '../context.js';
import type { Identity } from '../identity.js';
import { parseTime } from '../util.js';

/** The query string of a request as a flat record (first value of repeated keys). */
export function queryOf(q: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!q || typeof q !== 'object') return out;
  for (const [k, v] of Object.entries(q as Record<string, unknown>)) {
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined && one !== null) out[k] = String(one);
  }
  return out;
}

const TRUE_WORDS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_WORDS = ['0', 'f', 'false', 'off', 'n', 'no'];

/** oslo's `bool_from_string(value, default=True)`, which Keystone uses for boolean filters. */
export function filterBool(v: string): boolean {
  const s = v.trim().toLowerCase();
  if (TRUE_WORDS.includes(s)) return true;
  if (FALSE_WORDS.includes(s)) return false;
  return true;
}

/** Keystone's `query_filter_is_true`: present and not exactly '0'. */
export const flagTrue = (q: Record<string, string>, name: string): boolean => name in q && q[name] !== '0';

/**
 * Applies the configured list limit as Keystone does (`list_limit`): the first N entries and
 * whether the list was truncated.
 */
export function applyLimit<T>(id: Identity, items: T[]): { items: T[]; truncated: boolean } {
  const limit = id.config.identity.list_limit;
  if (limit > 0 && items.length > limit) return { items: items.slice(0, limit), truncated: true };
  return { items, truncated: false };
}

/** The domain a create defaults to: the token's domain scope, else the default domain (Keystone). */
export const defaultDomainFor = (ctx: TokenContext): string => ctx.domain?.id ?? 'default';

/** A `password_expires_at` filter: `[op:]timestamp`, op one of lt lte gt gte eq neq. */
export interface ExpiryFilter { op: 'lt' | 'lte' | 'gt' | 'gte' | 'eq' | 'neq'; at: Date }

const OPS = ['lt', 'lte', 'gt', 'gte', 'eq', 'neq'] as const;

/** Parses Keystone's `password_expires_at` query value; 400 for a bad operator or timestamp. */
export function parseExpiryFilter(value: string): ExpiryFilter {
  let op = 'eq';
  let ts = value;
  if (value.slice(2, 4).includes(':')) {
    const i = value.indexOf(':');
    op = value.slice(0, i);
    ts = value.slice(i + 1);
  }
  const at = /^\d{4}-\d{2}-\d{2}/.test(ts) ? parseTime(ts) : undefined;
  if (!at) throw badRequest('Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  if (!(OPS as readonly string[]).includes(op)) {
    throw badRequest(`The given operator ${op} is not valid. It must be one of the following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'.`);
  }
  return { op: op as ExpiryFilter['op'], at };
}

/** Whether a stored expiry satisfies the filter (a password that never expires matches nothing). */
export function expiryMatches(f: ExpiryFilter, expiresAt: string | null): boolean {
  const d = parseTime(expiresAt);
  if (!d) return false;
  const a = Math.floor(d.getTime() / 1000);
  const b = Math.floor(f.at.getTime() / 1000);
  switch (f.op) {
    case 'lt': return a < b;
    case 'lte': return a <= b;
    case 'gt': return a > b;
    case 'gte': return a >= b;
    case 'eq': return a === b;
    case 'neq': return a !== b;
  }
}

/** The inexact (`attr__op`) part of a query, for `applyFilters`. */
export function inexact(q: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (k.includes('__')) out[k] = v;
  return out;
}
