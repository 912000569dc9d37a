import type { FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { badRequest, conflict } from '../../platform/http/faults.js';
import { baseUrl } from '../api/listing.js';

/** Keystone's `_normalize_dict`: ':' and '-' in attribute names become '_'. */
export function normalizeKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[:-]/g, '_'), v]));
}

/** The absolute link of an entity at `path` (e.g. `/v3/regions/RegionOne`). */
export const linkTo = (req: FastifyRequest, path: string): { self: string } => ({ self: `${baseUrl(req)}${path}` });

/** Keystone's list_limit: the first `list_limit` items and whether the list was cut. */
export function limitList<T>(id: Identity, items: T[]): { items: T[]; truncated: boolean } {
  const limit = id.config.identity.list_limit;
  if (limit > 0 && items.length > limit) return { items: items.slice(0, limit), truncated: true };
  return { items, truncated: false };
}

/** Keystone's `ValidationError(attribute, target)` 400. */
export const expecting = (attribute: string, target: string) => badRequest(`Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);

/** Keystone's Conflict 409. */
export const conflictOn = (type: string, details: string) => conflict(`Conflict occurred attempting to store ${type} - ${details}.`);

/** Keystone's `_require_matching_id`: an `id` in an update body must be the path's. */
export function requireMatchingId(body: Record<string, unknown>, pathId: string, message = 'Cannot change ID'): void {
  if (body.id !== undefined && body.id !== null && body.id !== pathId) throw badRequest(message);
}

/** The query string of a request as a flat record. */
export const queryOf = (req: FastifyRequest): Record<string, unknown> => (req.query ?? {}) as Record<string, unknown>;
