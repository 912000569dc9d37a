/** The version document (`/`), the resource index (`/v2.0`) and the extensions list. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFoundOf } from '../faults.js';
import { EXTENSIONS, type Extension } from '../extensions.js';

const UPDATED = '2022-10-01T10:00:00-00:00';
const view = (e: Extension) => ({ alias: e.alias, name: e.name, description: e.description, links: [], updated: UPDATED });
const origin = (req: FastifyRequest): string => `${req.protocol}://${req.headers.host ?? 'localhost'}`;

/** Collections served under /v2.0 (the resource index). */
export const COLLECTIONS: readonly [string, string][] = [
  ['network', 'networks'], ['subnet', 'subnets'], ['port', 'ports'], ['security_group', 'security_groups'],
  ['security_group_rule', 'security_group_rules'], ['router', 'routers'], ['floatingip', 'floatingips'],
  ['quota', 'quotas'], ['agent', 'agents'], ['availability_zone', 'availability_zones'],
  ['network_ip_availability', 'network-ip-availabilities'], ['subnetpool', 'subnetpools'],
];

export function registerCore(app: FastifyInstance): void {
  app.get('/', { config: { public: true } }, async (req) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${origin(req)}/v2.0/`, rel: 'self' }] }],
  }));
  app.get('/v2.0', async (req) => ({
    resources: COLLECTIONS.map(([name, collection]) => ({ name, collection, links: [{ href: `${origin(req)}/v2.0/${collection}`, rel: 'self' }] })),
  }));
  app.get('/v2.0/extensions', async () => ({ extensions: EXTENSIONS.map(view) }));
  app.get('/v2.0/extensions/:alias', async (req) => {
    const alias = (req.params as { alias: string }).alias;
    const e = EXTENSIONS.find((x) => x.alias === alias);
    if (!e) throw notFoundOf('ExtensionNotFound', `Extension with alias ${alias} does not exist`);
    return { extension: view(e) };
  });
}
