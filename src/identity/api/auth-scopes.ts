import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { baseUrl, listBody } from './listing.js';
import { domainsForUser, hasSystemRole, projectsForUser } from '../assignments/scopes.js';

/** GET /v3/auth/projects, /v3/auth/domains and /v3/auth/system: the scopes the caller's user may request. */
export function register(app: FastifyInstance, id: Identity): void {
  const v3 = (req: FastifyRequest) => `${baseUrl(req)}/v3`;

  app.get('/v3/auth/projects', async (req) => {
    const ctx = await id.authorize(req, 'identity:get_auth_projects');
    return listBody(req, 'projects', await projectsForUser(id, ctx.userId, v3(req)));
  });

  app.get('/v3/auth/domains', async (req) => {
    const ctx = await id.authorize(req, 'identity:get_auth_domains');
    return listBody(req, 'domains', await domainsForUser(id, ctx.userId, v3(req)));
  });

  app.get('/v3/auth/system', async (req) => {
    const ctx = await id.authorize(req, 'identity:get_auth_system');
    return { system: (await hasSystemRole(id, ctx.userId)) ? [{ all: true }] : [], links: { self: `${v3(req)}/auth/system` } };
  });
}
