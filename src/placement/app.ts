/**
 * The placement API as a Fastify app: keystone authentication (the version document at / is
 * public), microversion negotiation with `OpenStack-API-Version`/`Vary` on every response,
 * placement's per-route version gates and content checks, and its error bodies.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createApiServer } from '../platform/http/server.js';
import { Fault } from '../platform/http/faults.js';
import { negotiate } from '../platform/http/microversion.js';
import { installAuthentication, type TokenValidator } from '../platform/auth/index.js';
import type { PlacementContext } from './context.js';
import { badRequest, placementFault, renderPlacementFault } from './faults.js';
import { MAX_VERSION, MIN_VERSION, versionString } from './versions.js';
import { mediaType, type PlacementRouteConfig } from './api/common.js';
import { registerCandidateRoutes } from './api/candidates.js';
import { registerProviderRoutes } from './api/providers.js';
import { registerClassAndTraitRoutes } from './api/classes-traits.js';
import { registerAllocationRoutes } from './api/allocations.js';

/** The version a request asked for in `OpenStack-API-Version: placement X.Y`, verbatim. */
function requestedVersion(req: FastifyRequest): string | undefined {
  const h = req.headers['openstack-api-version'];
  let out: string | undefined;
  for (const part of (Array.isArray(h) ? h : h ? [h] : []).flatMap((x) => x.split(','))) {
    const [svc, ...ver] = part.trim().split(/\s+/);
    if (svc?.toLowerCase() === 'placement' && ver.length) out = ver.join(' ');
  }
  return out;
}

/** Whether a parsed JSON value holds a NUL character in any string or key. */
function hasNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > 64 || v === null || typeof v !== 'object') return false;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (k.includes('\u0000') || hasNul(x, depth + 1)) return true;
  return false;
}

/** The placement API, authenticating with `validator`. */
export function createPlacementApp(ctx: PlacementContext, validator: TokenValidator): FastifyInstance {
  const app = createApiServer({ service: 'placement', logger: ctx.log, bodyLimit: ctx.config.platform.max_body_bytes, renderFault: renderPlacementFault });
  installAuthentication(app, { validator, onUnauthorized: (m) => new Fault(401, m), serviceType: 'placement' });
  // Bodies are JSON whatever their declared type (the routes check the type first); placement's words for bad JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, raw, done) => {
    const text = String(raw);
    if (text.trim() === '') return done(null, undefined);
    let body: unknown;
    try { body = JSON.parse(text); } catch (e) { return done(badRequest(`Malformed JSON: ${(e as Error).message}`)); }
    // No engine stores a NUL character the same way (PostgreSQL refuses it): refused up front.
    if (text.includes('\\u0000') && hasNul(body)) return done(badRequest('Malformed JSON: NUL characters are not allowed'));
    done(null, body);
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('vary', 'openstack-api-version');
    const n = negotiate(req.headers, 'placement', MIN_VERSION, MAX_VERSION);
    if (!n.ok) {
      const asked = requestedVersion(req) ?? '';
      if (/^\s*\d+\.\d+\s*$/.test(asked)) throw placementFault(406, `Unacceptable version header: ${asked}`);
      throw badRequest(`invalid version string: ${asked}`);
    }
    const minor = n.version.minor;
    req.placementMinor = minor;
    reply.header('openstack-api-version', `placement ${versionString(n.version)}`);
    if (req.url.includes('%00') || req.url.includes('\u0000')) throw badRequest('NUL characters are not allowed in the URL');
    const cfg = (req.routeOptions.config ?? {}) as PlacementRouteConfig;
    if (cfg.since !== undefined && minor < cfg.since) {
      throw cfg.belowStatus === 405 ? placementFault(405, `The method ${req.method} is not allowed for this resource.`) : placementFault(cfg.belowStatus ?? 404, 'The resource could not be found.');
    }
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > 0 && !req.headers['content-type']) throw badRequest('content-type header required when content-length > 0');
    const json = typeof cfg.json === 'function' ? cfg.json(minor) : cfg.json;
    if (json && mediaType(req) !== 'application/json') {
      throw placementFault(415, `The media type ${mediaType(req) ?? 'None'} is not supported, use application/json`);
    }
  });

  // Error bodies get the request id, and `code` only from 1.23; a failed negotiation's 406 says which versions exist.
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'string' || !payload.startsWith('{"errors"')) return payload;
    try {
      const doc = JSON.parse(payload) as { errors: Record<string, unknown>[] };
      for (const e of doc.errors) {
        if (req.placementMinor === undefined || req.placementMinor < 23) delete e.code;
        e.request_id = req.id;
        if (e.status === 406 && req.placementMinor === undefined) { e.max_version = versionString(MAX_VERSION); e.min_version = versionString(MIN_VERSION); }
      }
      return JSON.stringify(doc);
    } catch {
      return payload;
    }
  });

  registerCandidateRoutes(app, ctx);
  registerProviderRoutes(app, ctx);
  registerClassAndTraitRoutes(app, ctx);
  registerAllocationRoutes(app, ctx);
  return app;
}
