/**
 * What every placement handler shares: route registration with placement's 405s and per-route
 * microversion gates, content negotiation (406 unless JSON is acceptable, 415 unless the body is
 * JSON), body validation, policy, and the 1.15 cache headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authOf } from '../../platform/auth/index.js';
import type { PlacementContext } from '../context.js';
import { badRequest, placementFault } from '../faults.js';
import { check, type Schema } from '../schema.js';
import { want } from '../versions.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Route settings read by the app's request hooks. */
export interface PlacementRouteConfig {
  /** First minor version serving the route (below: `belowStatus`, default 404). */
  readonly since?: number;
  readonly belowStatus?: number;
  /** Whether the request must carry a JSON body (415 otherwise), for all versions or from a minor. */
  readonly json?: boolean | ((minor: number) => boolean);
  readonly public?: boolean;
}

export type Handler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface RouteSpec { readonly handler: Handler; readonly config?: PlacementRouteConfig }

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/**
 * Registers a path's methods; every other method answers 405 with `Allow`, as placement's router
 * does.
 */
export function registerPath(app: FastifyInstance, url: string, methods: Partial<Record<Method, RouteSpec>>): void {
  const allowed = Object.keys(methods) as Method[];
  for (const m of allowed) {
    const spec = methods[m]!;
    app.route({ method: m, url, config: spec.config ?? {}, handler: spec.handler });
  }
  const others = ALL_METHODS.filter((m) => !allowed.includes(m as Method) && !(m === 'HEAD' && allowed.includes('GET')));
  const publicPath = allowed.some((m) => methods[m]!.config?.public);
  app.route({
    method: [...others], url, config: publicPath ? { public: true } : {},
    handler: async (req, reply) => {
      reply.header('allow', allowed.join(', '));
      throw placementFault(405, `The method ${req.method} is not allowed for this resource.`);
    },
  });
}

/** Whether the Accept header admits application/json (absent: yes). */
export function acceptsJson(req: FastifyRequest): boolean {
  const h = req.headers.accept;
  if (!h || !h.trim()) return true;
  for (const part of h.split(',')) {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (type === 'application/json' || type === 'application/*' || type === '*/*' || type === '*') return true;
  }
  return false;
}

/** 406 unless the client accepts JSON (placement's check_accept on GET handlers). */
export function requireAcceptJson(req: FastifyRequest): void {
  if (!acceptsJson(req)) throw placementFault(406, 'Only application/json is provided');
}

/** The media type of the request body, without parameters. */
export const mediaType = (req: FastifyRequest): string | undefined => req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;

/** The request body validated against `schema`: a 400 in placement's words otherwise. */
export function bodyOf<T>(req: FastifyRequest, schema: Schema): T {
  if (req.body === undefined) throw badRequest('Malformed JSON: Expecting value: line 1 column 1 (char 0)');
  const problem = check(req.body, schema);
  if (problem) throw badRequest(`JSON does not validate: ${problem}`);
  return req.body as T;
}

/** Enforces a policy rule for the request's caller. */
export function authorize(ctx: PlacementContext, req: FastifyRequest, rule: string, target: Record<string, unknown> = {}): void {
  ctx.authorize(ctx.callerOf(authOf(req)), rule, target);
}

/** An HTTP date (Last-Modified) of an ISO time, or of now. */
export const httpDate = (iso?: string): string => (iso ? new Date(iso) : new Date()).toUTCString();

/** From 1.15, responses with a body say when their data last changed and must not be cached. */
export function cacheHeaders(req: FastifyRequest, reply: FastifyReply, lastModified?: string): void {
  if (!want(req, 15)) return;
  reply.header('cache-control', 'no-cache');
  reply.header('last-modified', httpDate(lastModified));
}

/** Sends a JSON body (200 unless `status`), with the 1.15 cache headers. */
export function sendJson(req: FastifyRequest, reply: FastifyReply, body: unknown, opts: { status?: number; lastModified?: string } = {}): FastifyReply {
  cacheHeaders(req, reply, opts.lastModified);
  return reply.status(opts.status ?? 200).type('application/json').send(body);
}

/** An absolute URL for a Location header, as webob makes it from the request's Host. */
export const absoluteUrl = (req: FastifyRequest, path: string): string => `${req.protocol}://${req.headers.host ?? 'localhost'}${path}`;

/** Sends an empty response (204 unless `status`). */
export const sendEmpty = (reply: FastifyReply, status = 204): FastifyReply => reply.status(status).send();

/** The most recent of some ISO times. */
export const latest = (times: Iterable<string | null | undefined>): string | undefined => {
  let out: string | undefined;
  for (const t of times) if (t && (!out || t > out)) out = t;
  return out;
};

/** A path parameter (Fastify has decoded it). */
export const param = (req: FastifyRequest, name: string): string => String((req.params as Record<string, string>)[name] ?? '');

