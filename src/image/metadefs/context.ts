/**
 * What every metadef route needs: the caller, Glance's visibility rule for namespaces, policy
 * checks that hide invisible namespaces behind 404s, and list sorting/paging.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { authOf } from '../../platform/auth/index.js';
import { Fault, badRequest, forbidden, notFound } from '../../platform/http/faults.js';
import { findNamespace } from './store.js';
import type { MetadefDB, NamespaceRow } from './tables.js';

/** What the host service gives the metadef routes (see index.ts). */
export interface MetadefDeps {
  readonly db: Kysely<any>;
  /** Checks a policy rule for the request's caller; throws a 403 Fault when denied. */
  readonly enforce: (rule: string, target: Record<string, unknown>, req: FastifyRequest) => void;
  /** Page size of namespace lists without `limit` (Glance's limit_param_default, 25). */
  readonly limitDefault?: number;
  /** Largest page of namespace lists (Glance's api_limit_max, 1000). */
  readonly limitMax?: number;
}

export interface Ctx {
  readonly db: Kysely<MetadefDB>;
  readonly deps: MetadefDeps;
}

/** The caller as the metadef rules see it: admins see every namespace. */
export function callerOf(req: FastifyRequest): { admin: boolean; project: string | null } {
  const auth = authOf(req);
  return { admin: auth.isAdmin || auth.roles.includes('admin'), project: auth.projectId ?? null };
}

const visible = (ns: NamespaceRow, who: { admin: boolean; project: string | null }): boolean =>
  who.admin || ns.visibility === 'public' || (who.project !== null && ns.owner === who.project);

export const namespaceNotFound = (name: string): Fault => notFound(`Metadata definition namespace=${name} was not found.`);

/** The namespace called `name` if the caller may see it, else 404 (hiding others' private namespaces). */
export async function visibleNamespace(ctx: Ctx, req: FastifyRequest, name: string): Promise<NamespaceRow> {
  const ns = await findNamespace(ctx.db, name);
  if (!ns || !visible(ns, callerOf(req))) throw namespaceNotFound(name);
  return ns;
}

const targetOf = (req: FastifyRequest, ns?: NamespaceRow): Record<string, unknown> =>
  ns ? { project_id: ns.owner, visibility: ns.visibility, namespace: ns.namespace } : { project_id: authOf(req).projectId ?? null };

/** Whether `rule` allows the request (a denial is an answer, not an error). */
export function allowed(ctx: Ctx, rule: string, req: FastifyRequest, ns?: NamespaceRow): boolean {
  try {
    ctx.deps.enforce(rule, targetOf(req, ns), req);
    return true;
  } catch (err) {
    if (err instanceof Fault && err.status === 403) return false;
    throw err;
  }
}

/**
 * Enforces `rule` on a namespace (or on the caller's project when there is none). A denial is a
 * 404 when the caller may not even read the namespace, so its existence is not revealed (Glance).
 */
export function authorize(ctx: Ctx, rule: string, req: FastifyRequest, ns?: NamespaceRow): void {
  try {
    ctx.deps.enforce(rule, targetOf(req, ns), req);
  } catch (err) {
    if (ns && err instanceof Fault && err.status === 403
      && (rule === 'get_metadef_namespace' || !allowed(ctx, 'get_metadef_namespace', req, ns))) {
      throw namespaceNotFound(ns.namespace);
    }
    throw err;
  }
}

/** 403 when a namespace is protected: nothing in it may be deleted. */
export function refuseIfProtected(ns: NamespaceRow, what: string): void {
  if (ns.protected === 1) throw forbidden(`${what} is protected and cannot be deleted.`);
}

/** Whether a decoded request value (params, query, body) holds a NUL character anywhere; iterative, any depth. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

/** A preHandler refusing NUL characters (PostgreSQL cannot store or compare them: a 500 otherwise). */
export async function refuseNul(req: FastifyRequest): Promise<void> {
  if (containsNul(req.params) || containsNul(req.query) || containsNul(req.body)) throw badRequest('Null characters are not allowed.');
}

/** One query parameter (the first when repeated). */
export function queryParam(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Record<string, unknown> | undefined)?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s : undefined;
}

export interface ListOptions { sortKey: string; sortDir: 'asc' | 'desc'; marker?: string; limit?: number }

/** Sort/paging parameters; `keys` are the sortable attributes, `limitDefault` applies when `limit` is absent. */
export function listOptions(req: FastifyRequest, keys: readonly string[], opts: { limitDefault?: number; limitMax?: number; zeroLimitOk?: boolean } = {}): ListOptions {
  const sortDir = queryParam(req, 'sort_dir') ?? 'desc';
  if (sortDir !== 'asc' && sortDir !== 'desc') throw badRequest(`Invalid sort direction: ${sortDir}`);
  const sortKey = queryParam(req, 'sort_key') ?? 'created_at';
  if (!keys.includes(sortKey)) throw badRequest(`Invalid sort key: ${sortKey}. Sortable attributes: ${keys.join(', ')}`);
  const raw = queryParam(req, 'limit');
  let limit = opts.limitDefault;
  if (raw !== undefined && raw !== '') {
    if (!/^-?\d+$/.test(raw.trim())) throw badRequest('limit param must be an integer');
    limit = Number(raw);
    if (limit < 0 || (limit === 0 && opts.zeroLimitOk === false)) throw badRequest('limit param must be positive');
  }
  if (limit !== undefined && opts.limitMax !== undefined) limit = Math.min(limit, opts.limitMax);
  const marker = queryParam(req, 'marker');
  return { sortKey, sortDir, marker: marker || undefined, limit };
}

type Sortable = { created_at: string; id: string };

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return a < b ? -1 : 1;
}

/**
 * Sorts by the key, then creation time, then id, all in the one direction (Glance's paging
 * keys), and returns the page after `marker` (found by `markerOf`; 404 via `missing` if absent).
 */
export function page<T extends Sortable>(rows: T[], o: ListOptions, markerOf: (r: T) => string, missing: (m: string) => Fault): T[] {
  const sign = o.sortDir === 'asc' ? 1 : -1;
  const key = (r: T): unknown => (r as unknown as Record<string, unknown>)[o.sortKey];
  const sorted = [...rows].sort((a, b) => sign * (compareValues(key(a), key(b))
    || compareValues(a.created_at, b.created_at) || compareValues(a.id, b.id)));
  let start = 0;
  if (o.marker !== undefined) {
    const at = sorted.findIndex((r) => markerOf(r) === o.marker);
    if (at < 0) throw missing(o.marker);
    start = at + 1;
  }
  return sorted.slice(start, o.limit === undefined ? undefined : start + o.limit);
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Answers the methods a path does not support with 405 and an `Allow` header, as Glance's router. */
export function rejectOtherMethods(app: FastifyInstance, url: string, supported: readonly (typeof METHODS)[number][]): void {
  const allow = supported.join(', ');
  const others = METHODS.filter((m) => !supported.includes(m));
  if (others.length === 0) return;
  app.route({
    method: [...others], url,
    handler: async () => { throw new Fault(405, 'The method specified is not allowed for this resource.', { allow }, 'MethodNotAllowed'); },
  });
}
