import type { FastifyInstance, FastifyRequest } from 'fastify';
import { baseUrl } from './common.js';

/**
 * The API versions served: Glance Zed's list without the cache API (2.14/2.16), with the
 * multi-store ones (2.8–2.13, `/v2/info/stores`) since stores are discoverable here.
 */
const VERSIONS: ReadonlyArray<[string, 'CURRENT' | 'SUPPORTED']> = [
  ['2.15', 'CURRENT'], ['2.13', 'SUPPORTED'], ['2.12', 'SUPPORTED'], ['2.11', 'SUPPORTED'], ['2.10', 'SUPPORTED'],
  ['2.9', 'SUPPORTED'], ['2.8', 'SUPPORTED'], ['2.7', 'SUPPORTED'], ['2.6', 'SUPPORTED'], ['2.5', 'SUPPORTED'],
  ['2.4', 'SUPPORTED'], ['2.3', 'SUPPORTED'], ['2.2', 'SUPPORTED'], ['2.1', 'SUPPORTED'], ['2.0', 'SUPPORTED'],
];

export const versionsBody = (req: FastifyRequest) => ({
  versions: VERSIONS.map(([id, status]) => ({ id: `v${id}`, status, links: [{ rel: 'self', href: `${baseUrl(req)}/v2/` }] })),
});

/** Version discovery: 300 at `/` (and `/v2`), 200 at `/versions`; no token needed. */
export function register(app: FastifyInstance): void {
  const choices = async (req: FastifyRequest, reply: import('fastify').FastifyReply) => reply.status(300).send(versionsBody(req));
  app.get('/', { config: { public: true } }, choices);
  app.get('/v2', { config: { public: true } }, choices);
  app.get('/versions', { config: { public: true } }, async (req) => versionsBody(req));
}
