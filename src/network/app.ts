import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../platform/http/server.js';
import { Fault } from '../platform/http/faults.js';
import { installAuthentication, type TokenValidator } from '../platform/auth/index.js';
import type { NetworkContext } from './context.js';
import { renderNeutronFault } from './faults.js';
import { registerCore } from './api/core.js';
import { registerTags } from './api/tags.js';
import { registerResource, type ResourceBehaviour } from './resource/routes.js';
import { networkBehaviour } from './networks.js';
import { subnetBehaviour, deleteSubnetIn } from './subnets.js';
import { portBehaviour, syncDhcpPort, deletePortIn } from './ports.js';
import { findObjs } from './resource/store.js';
import { subnetDef } from './subnets.js';
import { portDef } from './ports.js';

/** Every collection of the API, with its behaviour (routes are registered from this list). */
export function behaviours(ctx: NetworkContext): ResourceBehaviour[] {
  const subnetHooks = { syncDhcpPort: (tx: Parameters<typeof syncDhcpPort>[1], net: Parameters<typeof syncDhcpPort>[2], subnets: Parameters<typeof syncDhcpPort>[3]) => syncDhcpPort(ctx, tx, net, subnets) };
  return [
    networkBehaviour(ctx, {
      // Deleting a network takes its DHCP port and its subnets with it.
      beforeDelete: async (tx, net) => {
        for (const p of await findObjs(tx, portDef, { network_id: net.id, device_owner: 'network:dhcp' })) await deletePortIn(tx, p.id);
        for (const s of await findObjs(tx, subnetDef, { network_id: net.id })) await deleteSubnetIn(tx, s, { syncDhcpPort: async () => undefined });
      },
    }),
    subnetBehaviour(ctx, subnetHooks),
    portBehaviour(ctx),
  ];
}

/** The network v2.0 API as a Fastify app, authenticating with `validator`. */
export function createNetworkApp(ctx: NetworkContext, validator: TokenValidator): FastifyInstance {
  const app = createApiServer({ service: 'network', logger: ctx.log, bodyLimit: ctx.config.platform.max_body_bytes, renderFault: renderNeutronFault });
  installAuthentication(app, { validator, onUnauthorized: (m) => new Fault(401, m), serviceType: 'network' });
  registerCore(app);
  for (const b of behaviours(ctx)) {
    registerResource(app, ctx, b);
    if ('tags' in b.def.attributes) registerTags(app, ctx, b);
  }
  return app;
}
