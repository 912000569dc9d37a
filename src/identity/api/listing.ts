import type { FastifyRequest } from 'fastify';
import { queryBool } from '../util.js';

/** The absolute URL of the request's path (without query), for `links.self`. */
export function selfUrl(req: FastifyRequest): string {
  return `${baseUrl(req)}${req.url.split('?')[0]}`;
}

/** scheme://host of the request as the client addressed it. */
export function baseUrl(req: FastifyRequest): string {
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  const proto = req.headers['x-forwarded-proto'] ?? 'http';
  return `${proto}://${host}`;
}

/** A Keystone list body: `{key: items, links: {self, previous: null, next: null}}`; `truncated` when limited. */
export function listBody(req: FastifyRequest, key: string, items: unknown[], truncated = false): Record<string, unknown> {
  const q = req.url.includes('?') ? `?${req.url.split('?')[1]}` : '';
  const body: Record<string, unknown> = { [key]: items, links: { self: `${selfUrl(req)}${q}`, previous: null, next: null } };
  if (truncated) body.truncated = true;
  return body;
}

type Row = Record<string, unknown>;

/**
 * Keystone's list filters on already-rendered entities: exact `attr=value`, and the comparators
 * `attr__contains`, `__icontains`, `__startswith`, `__istartswith`, `__endswith`, `__iendswith`,
 * `__equals`, `__iequals`. Only attributes in `allowed` are considered; booleans compare as Keystone's.
 */
export function applyFilters<T extends Row>(items: T[], query: Record<string, unknown>, allowed: readonly string[]): T[] {
  let out = items;
  for (const [rawKey, rawVal] of Object.entries(query)) {
    const [attr, op = 'equals'] = rawKey.split('__');
    if (!allowed.includes(attr)) continue;
    const val = String(Array.isArray(rawVal) ? rawVal[0] : rawVal);
    out = out.filter((it) => {
      const have = it[attr];
      if (typeof have === 'boolean') return have === queryBool(val);
      if (have === null || have === undefined) return op === 'equals' && (val === '' || val === 'None') ? true : false;
      const h = String(have);
      switch (op) {
        case 'equals': return h === val;
        case 'iequals': return h.toLowerCase() === val.toLowerCase();
        case 'contains': return h.includes(val);
        case 'icontains': return h.toLowerCase().includes(val.toLowerCase());
        case 'startswith': return h.startsWith(val);
        case 'istartswith': return h.toLowerCase().startsWith(val.toLowerCase());
        case 'endswith': return h.endsWith(val);
        case 'iendswith': return h.toLowerCase().endsWith(val.toLowerCase());
        default: return true;
      }
    });
  }
  return out;
}
