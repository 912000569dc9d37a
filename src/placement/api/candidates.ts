/** GET /allocation_candidates (1.10+) and the version document at /. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PlacementContext } from '../context.js';
import { parseCandidateQuery } from '../candidates/request.js';
import { findCandidates, type CandidateResult } from '../candidates/search.js';
import { rules } from '../policy.js';
import type { QueryValues } from '../query.js';
import { MAX_VERSION, MIN_VERSION, versionString, want } from '../versions.js';
import { authorize, registerPath, requireAcceptJson, sendJson } from './common.js';

/** The response document of a candidates search, shaped for the request's microversion. */
export function candidatesBody(req: FastifyRequest, res: CandidateResult): Record<string, unknown> {
  const allocationRequests = res.requests.map((r) => {
    if (!want(req, 12)) {
      return { allocations: [...r.allocations].map(([uuid, m]) => ({ resource_provider: { uuid }, resources: Object.fromEntries(m) })) };
    }
    const out: Record<string, unknown> = { allocations: Object.fromEntries([...r.allocations].map(([uuid, m]) => [uuid, { resources: Object.fromEntries(m) }])) };
    if (want(req, 34)) out.mappings = Object.fromEntries([...r.mappings].map(([s, ps]) => [s, [...ps].sort()]));
    return out;
  });
  const summaries = Object.fromEntries(res.summaries.map((s) => {
    const out: Record<string, unknown> = { resources: Object.fromEntries([...s.resources].map(([rc, v]) => [rc, { capacity: v.capacity, used: v.used }])) };
    if (want(req, 17)) out.traits = s.traits;
    if (want(req, 29)) { out.parent_provider_uuid = s.parentUuid; out.root_provider_uuid = s.rootUuid; }
    return [s.uuid, out];
  }));
  return { allocation_requests: allocationRequests, provider_summaries: summaries };
}

export function registerCandidateRoutes(app: FastifyInstance, ctx: PlacementContext): void {
  const home = {
    config: { public: true },
    handler: async (req: FastifyRequest, reply: import('fastify').FastifyReply) => sendJson(req, reply, {
      versions: [{
        id: `v${versionString(MIN_VERSION)}`, max_version: versionString(MAX_VERSION), min_version: versionString(MIN_VERSION),
        status: 'CURRENT', links: [{ rel: 'self', href: '' }],
      }],
    }),
  };
  registerPath(app, '/', { GET: home });

  registerPath(app, '/allocation_candidates', {
    GET: {
      config: { since: 10 },
      handler: async (req, reply) => {
        requireAcceptJson(req);
        authorize(ctx, req, rules.candidates);
        const minor = req.placementMinor ?? 0;
        const q = parseCandidateQuery(req.query as QueryValues, minor);
        const res = await findCandidates(ctx.db, q, { nestedAware: minor >= 29, allResourcesInSummary: minor >= 27, traitsInSummary: minor >= 17 });
        return sendJson(req, reply, candidatesBody(req, res));
      },
    },
  });
}
