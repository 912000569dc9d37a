import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../identity.js';
import { baseUrl } from './listing.js';

const MEDIA = [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }];
/** Keystone Zed's v3 minor version. */
export const IDENTITY_VERSION = 'v3.14';
const UPDATED = '2020-04-07T00:00:00Z';

const v3 = (req: FastifyRequest) => ({
  id: IDENTITY_VERSION, status: 'stable', updated: UPDATED, 'media-types': MEDIA,
  links: [{ rel: 'self', href: `${baseUrl(req)}/v3/` }],
});

/** Version discovery at / and /v3 (300 Multiple Choices at the root, as Keystone). */
export function register(app: FastifyInstance, _id: Identity): void {
  app.get('/', async (req, reply) => {
    reply.status(300);
    return { versions: { values: [v3(req)] } };
  });
  app.get('/v3', async (req) => ({ version: v3(req) }));
}
