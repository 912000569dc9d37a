/**
 * The all-in-one's first-start network topology, as DevStack makes it: the external network
 * `public` (flat, on the public physical network, no DHCP, its first address the outside
 * gateway), a `private` network and subnet in the demo project, and `router1` joining them; and
 * the `default` security group of both projects. Idempotent by name: what exists is kept.
 */
import type { NetworkContext } from './context.js';
import { behaviours } from './app.js';
import { createAttrs } from './resource/body.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { findObjs } from './resource/store.js';
import type { Obj } from './resource/types.js';
import { networkDef } from './networks.js';
import { routerDef } from './router-def.js';
import { subnetDef } from './subnets.js';
import { addRouterInterface } from './router-interfaces.js';
import { ensureDefaultGroup } from './security-groups.js';
import { internalAdmin } from './service-ports.js';
import { parseCidr, formatIp } from './ipam/addr.js';

export interface DefaultTopology { readonly publicNetworkId: string; readonly privateNetworkId: string; readonly routerId: string }

export async function ensureDefaultTopology(ctx: NetworkContext, projects: { adminProjectId: string; demoProjectId: string }): Promise<DefaultTopology> {
  const cfg = ctx.config.network;
  const all = behaviours(ctx);
  const by = (collection: string): ResourceBehaviour => all.find((b) => b.def.collection === collection)!;
  const admin = internalAdmin(projects.adminProjectId);
  const demo = internalAdmin(projects.demoProjectId);
  const make = async (collection: string, caller: typeof admin, given: Record<string, unknown>): Promise<Obj> => {
    const b = by(collection);
    return (await b.create!([createAttrs(b.def, { ...given, project_id: caller.projectId }, caller)], caller))[0]!;
  };
  const named = async (def: typeof networkDef, name: string, projectId: string): Promise<Obj | undefined> =>
    (await findObjs(ctx.db, def, { name, project_id: projectId }))[0];

  let pub = await named(networkDef, 'public', projects.adminProjectId);
  if (!pub) {
    pub = await make('networks', admin, {
      name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': cfg.public_physical_network,
    });
    const c = parseCidr(cfg.public_cidr, true);
    if (!c) throw new Error(`network.public_cidr ${cfg.public_cidr} is not a network address/prefix`);
    await make('subnets', admin, {
      name: 'public-subnet', network_id: pub.id, ip_version: c.version, cidr: cfg.public_cidr,
      gateway_ip: formatIp(c.version, c.network + 1n), enable_dhcp: false,
    });
  }
  let priv = await named(networkDef, 'private', projects.demoProjectId);
  let privSubnet = priv ? (await findObjs(ctx.db, subnetDef, { network_id: priv.id }))[0] : undefined;
  if (!priv) priv = await make('networks', demo, { name: 'private' });
  if (!privSubnet) {
    privSubnet = await make('subnets', demo, { name: 'private-subnet', network_id: priv.id, ip_version: 4, cidr: cfg.private_cidr });
  }
  let router = await named(routerDef, 'router1', projects.demoProjectId);
  if (!router) {
    router = await make('routers', demo, { name: 'router1', external_gateway_info: { network_id: pub.id } });
    await addRouterInterface(ctx, router.id, { subnet_id: privSubnet.id }, demo);
  }
  await ensureDefaultGroup(ctx, ctx.db, projects.adminProjectId);
  await ensureDefaultGroup(ctx, ctx.db, projects.demoProjectId);
  return { publicNetworkId: pub.id, privateNetworkId: priv.id, routerId: router.id };
}
