/**
 * The HTTP conventions of the compute API: microversions (`OpenStack-API-Version: compute X.Y` or
 * `X-OpenStack-Nova-API-Version`, echoed on every versioned response with `Vary`), the URL forms
 * with and without the project id (`/v2.1/flavors`, `/v2.1/{project_id}/flavors`) and the legacy
 * `/v2` prefix (always 2.0 semantics, no microversion headers), and the caller of a request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { authOf } from '../../platform/auth/index.js';
import { compareVersions, formatVersion, parseVersion, type Microversion } from '../../platform/http/microversion.js';
import { Fault } from '../../platform/http/faults.js';
import type { Caller, ComputeContext } from '../context.js';
import { badRequest } from '../faults.js';

/** The microversions this API serves (the version documents advertise them). */
export const MIN_VERSION: Microversion = { major: 2, minor: 1 };
export const MAX_VERSION: Microversion = { major: 2, minor: 90 };
/** What a `/v2` (legacy) request is served as. */
export const LEGACY_VERSION: Microversion = { major: 2, minor: 0 };

declare module 'fastify' {
  interface FastifyRequest {
    /** The negotiated compute microversion (set on every versioned route). */
    microversion?: Microversion;
  }
}

const MODERN = 'OpenStack-API-Version';
const LEGACY = 'X-OpenStack-Nova-API-Version';

/** The version a request asks for, or the fault Nova answers (400 malformed, 406 out of range). */
export function requestedVersion(headers: FastifyRequest['headers']): Microversion {
  let requested: string | undefined;
  const modern = headers['openstack-api-version'];
  for (const h of (Array.isArray(modern) ? modern : modern ? [modern] : []).flatMap((x) => x.split(','))) {
    const [svc, ver] = h.trim().split(/\s+/);
    if (svc?.toLowerCase() === 'compute' && ver) requested = ver;
  }
  if (requested === undefined) {
    const legacy = headers['x-openstack-nova-api-version'];
    requested = (Array.isArray(legacy) ? legacy[0] : legacy)?.trim() || undefined;
  }
  if (requested === undefined) return MIN_VERSION;
  if (requested.toLowerCase() === 'latest') return MAX_VERSION;
  const v = parseVersion(requested);
  if (!v) throw badRequest(`API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (compareVersions(v, MIN_VERSION) < 0 || compareVersions(v, MAX_VERSION) > 0) {
    throw new Fault(406, `Version ${formatVersion(v)} is not supported by the API. Minimum is ${formatVersion(MIN_VERSION)} and maximum is ${formatVersion(MAX_VERSION)}.`);
  }
  return v;
}

/** Whether the request's microversion is at least `v` ("2.55"). */
export function atLeast(req: FastifyRequest, v: string): boolean {
  const want = parseVersion(v)!;
  return compareVersions(req.microversion ?? MIN_VERSION, want) >= 0;
}

/** Whether the request came in through the legacy `/v2` prefix. */
export const isLegacy = (req: FastifyRequest): boolean => req.url.startsWith('/v2/') || req.url === '/v2';

/** Negotiates the version of a versioned route and echoes it in the response headers. */
function negotiate(req: FastifyRequest, reply: FastifyReply): void {
  if (isLegacy(req)) { req.microversion = LEGACY_VERSION; return; }
  const v = requestedVersion(req.headers);
  req.microversion = v;
  reply.header(MODERN, `compute ${formatVersion(v)}`);
  reply.header(LEGACY, formatVersion(v));
  reply.header('Vary', `${MODERN}, ${LEGACY}`);
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Registers a compute route under every URL form Nova serves: `/v2.1<path>`,
 * `/v2.1/{project_id}<path>` and the same under `/v2`. A project id in the URL must be the
 * token's (Nova's "Malformed request URL" 400 otherwise).
 */
export class ComputeRoutes {
  constructor(readonly app: FastifyInstance, readonly ctx: ComputeContext) {}

  route(method: Method, path: string, handler: RouteHandlerMethod): void {
    for (const prefix of ['/v2.1', '/v2.1/:project_id', '/v2', '/v2/:project_id']) {
      this.app.route({
        method,
        url: `${prefix}${path}`,
        handler: async function (this: FastifyInstance, req, reply) {
          negotiate(req, reply);
          const urlProject = (req.params as { project_id?: string }).project_id;
          const auth = authOf(req);
          if (urlProject !== undefined && urlProject !== (auth.projectId ?? '')) {
            throw badRequest(`Malformed request URL: URL's project_id '${urlProject}' doesn't match Context's project_id '${auth.projectId ?? 'None'}'`);
          }
          return handler.call(this, req, reply);
        },
      });
    }
  }

  get(path: string, handler: RouteHandlerMethod): void { this.route('GET', path, handler); }
  post(path: string, handler: RouteHandlerMethod): void { this.route('POST', path, handler); }
  put(path: string, handler: RouteHandlerMethod): void { this.route('PUT', path, handler); }
  delete(path: string, handler: RouteHandlerMethod): void { this.route('DELETE', path, handler); }

  /** The caller of a request. */
  caller(req: FastifyRequest): Caller { return this.ctx.callerOf(authOf(req)); }
}

/** Path parameters of a request. */
export const params = <T extends Record<string, string>>(req: FastifyRequest): T => req.params as T;

/**
 * The public base of this request's links: scheme://host and the version prefix with the
 * project id when the URL carried one (Nova's `_get_project_id` + `application_url`).
 */
export function linkBase(req: FastifyRequest): { origin: string; version: string; project: string } {
  const origin = `${req.protocol}://${req.headers.host ?? 'localhost'}`;
  const version = isLegacy(req) ? 'v2' : 'v2.1';
  const project = (req.params as { project_id?: string }).project_id ?? '';
  return { origin, version, project };
}

/** `self` and `bookmark` links of one object of `collection` (Nova's `_get_links`). */
export function selfLinks(req: FastifyRequest, collection: string, id: string): { rel: string; href: string }[] {
  const { origin, version, project } = linkBase(req);
  const tail = [project, collection, id].filter(Boolean).join('/');
  return [
    { rel: 'self', href: `${origin}/${version}/${tail}` },
    { rel: 'bookmark', href: `${origin}/${tail}` },
  ];
}

/**
 * Nova's `_get_collection_links`: a `next` link when the page is full (the limit asked for, or the
 * maximum page size), carrying the request's query with the marker replaced.
 */
export function nextLinks(req: FastifyRequest, collection: string, itemCount: number, lastId: string | undefined, maxLimit: number): { rel: string; href: string }[] {
  const q = req.query as Record<string, string | string[]>;
  const asked = q.limit === undefined ? maxLimit : Number(Array.isArray(q.limit) ? q.limit[0] : q.limit);
  const maxItems = Math.min(Number.isFinite(asked) ? asked : maxLimit, maxLimit);
  if (!maxItems || maxItems !== itemCount || lastId === undefined) return [];
  const params = new URLSearchParams();
  for (const k of Object.keys(q).sort()) {
    const v = q[k];
    params.append(k, k === 'marker' ? lastId : Array.isArray(v) ? String(v[v.length - 1]) : String(v));
  }
  if (!('marker' in q)) params.append('marker', lastId);
  const { origin, version, project } = linkBase(req);
  return [{ rel: 'next', href: `${origin}/${[version, project, collection].filter(Boolean).join('/')}?${params.toString()}` }];
}

/** Nova's `get_limit_and_marker` with the query already validated: limit capped at max_limit. */
export function limitAndMarker(req: FastifyRequest, maxLimit: number): { limit: number; marker?: string } {
  const q = req.query as Record<string, string | string[] | undefined>;
  const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v);
  const rawLimit = one(q.limit);
  let limit = maxLimit;
  if (rawLimit !== undefined) {
    if (!/^\d+$/.test(rawLimit)) throw badRequest(`limit must be an integer`);
    limit = Math.min(maxLimit, Number(rawLimit));
  }
  return { limit, marker: one(q.marker) };
}

/** The caller's view of the request, for handlers that only need `Caller`. */
export const callerOf = (ctx: ComputeContext, req: FastifyRequest): Caller => ctx.callerOf(authOf(req));
