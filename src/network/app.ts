import type { FastifyInstance } from 'fastify';
import { createApiServer } from '../platform/http/server.js';
import { Fault } from '../platform/http/faults.js';
import { installAuthentication, type TokenValidator } from '../platform/auth/index.js';
import type { NetworkContext } from './context.js';
import { renderNeutronFault } from './faults.js';
import { registerCore } from './api/core.js';
import { registerTags } from './api/tags.js';
import { registerRouterActions } from './api/routers.js';
import { routerBehaviour } from './routers.js';
import { deleteDisassociatedFloatingIps, disassociateFloatingIps, floatingIpBehaviour } from './floating-ips.js';
import { registerResource, type ResourceBehaviour } from './resource/routes.js';
import { networkBehaviour } from './networks.js';
import { subnetBehaviour, deleteSubnetIn, subnetDef, type SubnetHooks } from './subnets.js';
import { portBehaviour, syncDhcpPort, deletePortIn, dropSubnetAddresses } from './ports.js';
import { findObjs } from './resource/store.js';
import { portDef } from './ports.js';
import { registerQuotas } from './quotas.js';
import { registerAgents } from './agents.js';
import { registerDhcpScheduler, scheduleNetwork, unbindNetwork } from './dhcp-scheduler.js';
import { registerAvailabilityZones } from './availability-zones.js';
import { registerIpAvailability } from './ip-availability.js';
import { securityGroupBehaviour } from './security-groups.js';
import { securityGroupRuleBehaviour } from './security-group-rules.js';
import { subnetPoolBehaviour } from './subnetpools.js';

/** Deleting an external network first deletes its unassociated floating IPs (Neutron's BEFORE_DELETE handler). */
function withFloatingIpCleanup(ctx: NetworkContext, b: ResourceBehaviour): ResourceBehaviour {
  const remove = b.remove!;
  return {
    ...b,
    remove: async (obj, caller) => {
      if (caller.isAdmin || obj.project_id === caller.projectId) await deleteDisassociatedFloatingIps(ctx, obj.id);
      await remove(obj, caller);
    },
  };
}

/** Every collection of the API, with its behaviour (routes are registered from this list). */
export function behaviours(ctx: NetworkContext): ResourceBehaviour[] {
  const subnetHooks: SubnetHooks = {
    dropAddressesOf: dropSubnetAddresses,
    syncDhcpPort: async (tx: Parameters<typeof syncDhcpPort>[1], net: Parameters<typeof syncDhcpPort>[2], subnets: Parameters<typeof syncDhcpPort>[3]) => {
      await syncDhcpPort(ctx, tx, net, subnets);
      // A network that now needs DHCP is placed on a DHCP agent (dhcp_agent_scheduler).
      await scheduleNetwork(ctx, tx, net.id, subnets);
    },
  };
  return [
    withFloatingIpCleanup(ctx, networkBehaviour(ctx, {
      // Deleting a network takes its DHCP port and its subnets with it.
      beforeDelete: async (tx, net) => {
        for (const p of await findObjs(tx, portDef, { network_id: net.id, device_owner: 'network:dhcp' })) await deletePortIn(tx, p.id);
        for (const s of await findObjs(tx, subnetDef, { network_id: net.id })) await deleteSubnetIn(tx, s, { syncDhcpPort: async () => undefined, dropAddressesOf: dropSubnetAddresses });
        await unbindNetwork(tx, net.id);
      },
    })),
    subnetBehaviour(ctx, subnetHooks),
    portBehaviour(ctx, { beforeDelete: (tx, port) => disassociateFloatingIps(tx, port.id) }),
    routerBehaviour(ctx),
    floatingIpBehaviour(ctx),
    securityGroupBehaviour(ctx),
    securityGroupRuleBehaviour(ctx),
    subnetPoolBehaviour(ctx),
  ];
}

/** The network v2.0 API as a Fastify app, authenticating with `validator`. */
export function createNetworkApp(ctx: NetworkContext, validator: TokenValidator): FastifyInstance {
  const app = createApiServer({ service: 'network', logger: ctx.log, bodyLimit: ctx.config.platform.max_body_bytes, renderFault: renderNeutronFault });
  installAuthentication(app, { validator, onUnauthorized: (m) => new Fault(401, m), serviceType: 'network' });
  registerCore(app);
  registerQuotas(app, ctx);
  registerAgents(app, ctx);
  registerDhcpScheduler(app, ctx);
  registerAvailabilityZones(app, ctx);
  registerIpAvailability(app, ctx);
  for (const b of behaviours(ctx)) {
    registerResource(app, ctx, b);
    if ('tags' in b.def.attributes) registerTags(app, ctx, b);
    if (b.def.collection === 'routers') registerRouterActions(app, ctx, b);
  }
  return app;
}
