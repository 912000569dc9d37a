/**
 * Routers: create/update/delete with the external gateway (a `network:router_gateway` port on a
 * `router:external` network, SNAT on by default), static routes whose next hops must be on a
 * connected subnet, and the rules Neutron's l3_db applies (RouterInUse, gateway in use by
 * floating IPs, overlapping subnets). Interfaces are in router-interfaces.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Fault } from '../platform/http/faults.js';
import type { Caller, NetworkContext } from './context.js';
import { netFault } from './faults.js';
import { floatingIpsOfRouter } from './floating-ips.js';
import { ipInCidr, overlaps, parseCidr } from './ipam/addr.js';
import type { FixedIp, FixedIpRequest } from './ipam/allocate.js';
import { AVAILABILITY_ZONE, networkDef } from './networks.js';
import { createPortIn, deletePortIn, portDef, updatePortIn } from './ports.js';
import { checkQuotaForItems } from './quotas.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, getObj, insertObj, nowStamp, saveObj, type Db } from './resource/store.js';
import { transact } from './resource/tx.js';
import type { Obj } from './resource/types.js';
import { MAX_ROUTES, routerDef, type GatewayInfo, type GatewayRequest, type Route } from './router-def.js';
import { devicePortAttrs, internalAdmin, ROUTER_GATEWAY, ROUTER_INTERFACE } from './service-ports.js';
import { subnetDef } from './subnets.js';

export { routerDef } from './router-def.js';

/** `Bad router request: …` (Neutron's BadRequest for routers). */
export const badRouter = (msg: string): Fault => netFault(400, 'BadRequest', `Bad router request: ${msg}.`);

const denied = (rule: string): Fault => netFault(403, 'PolicyNotAuthorized', `(rule:${rule}) is disallowed by policy`);

/** The router's own ports: interfaces and the gateway (device_id = router). */
export async function routerPorts(db: Db, routerId: string): Promise<Obj[]> {
  return (await findObjs(db, portDef, { device_id: routerId, device_owner: [ROUTER_INTERFACE, ROUTER_GATEWAY] }))
    .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)) || a.id.localeCompare(b.id));
}

/** The interface ports of a router (device_owner network:router_interface). */
export async function routerInterfaces(db: Db, routerId: string): Promise<Obj[]> {
  return (await routerPorts(db, routerId)).filter((p) => p.device_owner === ROUTER_INTERFACE);
}

/** Subnets by id (those that exist). */
export async function subnetsById(db: Db, ids: readonly string[]): Promise<Map<string, Obj>> {
  const unique = [...new Set(ids)];
  return new Map((unique.length ? await findObjs(db, subnetDef, { id: unique }) : []).map((s) => [s.id, s]));
}

/**
 * Refuses subnets a router is already on, or whose CIDRs overlap those it reaches (its
 * interfaces' subnets and every subnet of its gateway network) — Neutron's 400s.
 */
export async function checkNoDuplicateSubnets(db: Db, routerId: string, fresh: readonly Obj[]): Promise<void> {
  const freshIds = new Set(fresh.map((s) => s.id));
  const reached: string[] = [];
  for (const p of await routerPorts(db, routerId)) {
    for (const ip of p.fixed_ips as FixedIp[]) {
      if (freshIds.has(ip.subnet_id)) throw badRouter(`Router already has a port on subnet ${ip.subnet_id}`);
      if (p.device_owner !== ROUTER_GATEWAY) reached.push(ip.subnet_id);
    }
    if (p.device_owner === ROUTER_GATEWAY) reached.push(...(await findObjs(db, subnetDef, { network_id: String(p.network_id) })).map((s) => s.id));
  }
  for (const sub of (await subnetsById(db, reached)).values()) {
    for (const s of fresh) {
      if (overlaps(parseCidr(String(sub.cidr))!, parseCidr(String(s.cidr))!)) {
        throw badRouter(`Cidr ${String(s.cidr)} of subnet ${s.id} overlaps with cidr ${String(sub.cidr)} of subnet ${sub.id}`);
      }
    }
  }
}

/**
 * Checks routes against the router's ports as they are now (in the transaction): at most
 * MAX_ROUTES, each next hop inside a connected subnet and not one of the router's own addresses.
 */
export async function validateRoutes(db: Db, routerId: string, routes: readonly Route[]): Promise<void> {
  if (routes.length > MAX_ROUTES) {
    throw netFault(400, 'RoutesExhausted', `Unable to complete operation for ${routerId}. The number of routes exceeds the maximum ${MAX_ROUTES}.`);
  }
  if (routes.length === 0) return;
  const ips = (await routerPorts(db, routerId)).flatMap((p) => p.fixed_ips as FixedIp[]);
  const cidrs = [...(await subnetsById(db, ips.map((f) => f.subnet_id))).values()].map((s) => parseCidr(String(s.cidr))!);
  const invalid = (reason: string): Fault => netFault(400, 'InvalidRoutes', `Invalid format for routes: ${JSON.stringify(routes)}, ${reason}.`);
  for (const r of routes) {
    if (!cidrs.some((c) => ipInCidr(r.nexthop, c))) throw invalid('the nexthop is not connected with router');
    if (ips.some((f) => f.ip_address === r.nexthop)) throw invalid('the nexthop is used by router');
  }
}

/** 409 when floating IPs NAT through this router's gateway (it cannot go or move). */
async function ensureGatewayUnused(db: Db, router: Obj, networkId: string): Promise<void> {
  if ((await floatingIpsOfRouter(db, router.id)).length) {
    throw netFault(409, 'RouterExternalGatewayInUseByFloatingIp',
      `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${networkId} is required by one or more floating IPs.`);
  }
}

/** Whether requested external IPs differ from the gateway port's (Neutron's _check_for_external_ip_change). */
function externalIpsChange(port: Obj | undefined, wanted: readonly FixedIpRequest[] | undefined): boolean {
  if (!wanted || wanted.length === 0) return false;
  if (!port) return true;
  const have = port.fixed_ips as FixedIp[];
  const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));
  const wantSubnets = new Set(wanted.flatMap((f) => (f.subnet_id ? [f.subnet_id] : [])));
  if (!same(wantSubnets, new Set(have.map((f) => f.subnet_id)))) return true;
  return !same(new Set(wanted.flatMap((f) => (f.ip_address ? [f.ip_address] : []))), new Set(have.map((f) => f.ip_address)));
}

/**
 * Applies a new `external_gateway_info` to `router` inside a transaction: creates, moves,
 * re-addresses or deletes the gateway port. Returns the router with its new gateway fields
 * (not yet saved).
 */
export async function applyGateway(ctx: NetworkContext, tx: Db, router: Obj, info: GatewayRequest | null, caller: Caller, action: 'create' | 'update'): Promise<Obj> {
  const current = router.gw_port_id ? await getObj(tx, portDef, String(router.gw_port_id)) : undefined;
  if (info === null) {
    if (current) {
      await ensureGatewayUnused(tx, router, String(current.network_id));
      await deletePortIn(tx, current.id);
    }
    return { ...router, external_gateway_info: null, gw_port_id: null };
  }
  if (!caller.isAdmin && info.enable_snat !== undefined) throw denied(`${action}_router:external_gateway_info:enable_snat`);
  if (!caller.isAdmin && info.external_fixed_ips !== undefined) throw denied(`${action}_router:external_gateway_info:external_fixed_ips`);
  const net = await getObj(tx, networkDef, info.network_id);
  if (!net || !(caller.isAdmin || net.project_id === caller.projectId || net.shared === true || net['router:external'] === true)) throw networkDef.notFound(info.network_id);
  if (net['router:external'] !== true) throw badRouter(`Network ${net.id} is not an external network`);
  const extSubnets = await findObjs(tx, subnetDef, { network_id: net.id });
  for (const f of info.external_fixed_ips ?? []) {
    if (f.ip_address && extSubnets.some((s) => s.gateway_ip === f.ip_address)) throw badRouter(`External IP ${f.ip_address} is the same as the gateway IP`);
  }
  const admin = internalAdmin('');
  let port: Obj;
  if (current && current.network_id === net.id) {
    port = externalIpsChange(current, info.external_fixed_ips) ? await updatePortIn(ctx, tx, current, { fixed_ips: info.external_fixed_ips }, admin) : current;
  } else {
    if (current) {
      await ensureGatewayUnused(tx, router, String(current.network_id));
      await deletePortIn(tx, current.id);
    }
    await checkNoDuplicateSubnets(tx, router.id, extSubnets);
    port = await createPortIn(ctx, tx, devicePortAttrs({
      networkId: net.id, projectId: '', deviceId: router.id, deviceOwner: ROUTER_GATEWAY, fixedIps: info.external_fixed_ips?.length ? info.external_fixed_ips : undefined,
    }), admin);
  }
  const gateway: GatewayInfo = {
    network_id: net.id,
    // Neutron's enable_snat_by_default: an update that omits it turns SNAT back on.
    enable_snat: info.enable_snat ?? true,
    external_fixed_ips: (port.fixed_ips as FixedIp[]).map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })),
  };
  return { ...router, external_gateway_info: gateway, gw_port_id: port.id };
}

/** Refreshes `external_gateway_info.external_fixed_ips` from the gateway ports as they are now. */
async function decorate(ctx: NetworkContext, objs: Obj[]): Promise<void> {
  const ids = objs.map((o) => o.gw_port_id).filter((p): p is string => typeof p === 'string');
  if (ids.length === 0) return;
  const ports = new Map((await findObjs(ctx.db, portDef, { id: ids })).map((p) => [p.id, p]));
  for (const o of objs as Record<string, unknown>[]) {
    const gw = o.external_gateway_info as GatewayInfo | null;
    const p = typeof o.gw_port_id === 'string' ? ports.get(o.gw_port_id) : undefined;
    if (gw && p) o.external_gateway_info = { ...gw, external_fixed_ips: (p.fixed_ips as FixedIp[]).map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })) };
  }
}

async function createOne(ctx: NetworkContext, tx: Db, attrs: Record<string, unknown>, caller: Caller): Promise<Obj> {
  const now = nowStamp();
  const { external_gateway_info: info, ...rest } = attrs;
  let router: Obj = {
    ...rest, id: randomUUID(), status: 'ACTIVE', routes: [], distributed: false, ha: false,
    availability_zones: [AVAILABILITY_ZONE], external_gateway_info: null, gw_port_id: null,
    tags: [], created_at: now, updated_at: now, revision_number: 1,
  };
  if (info) router = await applyGateway(ctx, tx, router, info as GatewayRequest, caller, 'create');
  await insertObj(tx, routerDef, router);
  return router;
}

/** Updates a router in a transaction (gateway, routes, plain attributes); returns it saved. */
export async function updateRouterIn(ctx: NetworkContext, tx: Db, id: string, attrs: Record<string, unknown>, caller: Caller): Promise<Obj> {
  let router = await getObj(tx, routerDef, id);
  if (!router) throw routerDef.notFound(id);
  const { external_gateway_info: info, routes, ...plain } = attrs;
  if ('external_gateway_info' in attrs) router = await applyGateway(ctx, tx, router, (info ?? null) as GatewayRequest | null, caller, 'update');
  if (routes !== undefined) router = { ...router, routes };
  // The gateway's subnets count as connected, so a gateway change can strand a route too.
  if (routes !== undefined || 'external_gateway_info' in attrs) await validateRoutes(tx, id, router.routes as Route[]);
  return saveObj(tx, routerDef, { ...router, ...plain });
}

export function routerBehaviour(ctx: NetworkContext): ResourceBehaviour {
  return {
    def: routerDef,
    decorate: (objs) => decorate(ctx, objs),
    create: async (items, caller) => {
      const made = await transact(ctx, async (tx) => {
        await checkQuotaForItems(ctx, tx, items, 'router', caller.projectId);
        const out: Obj[] = [];
        for (const attrs of items) out.push(await createOne(ctx, tx, attrs, caller));
        return out;
      });
      for (const r of made) { ctx.notify('router.create.end', { router: r }); ctx.changed('router', r.id); }
      return made;
    },
    update: async (obj, attrs, caller) => {
      const next = await transact(ctx, (tx) => updateRouterIn(ctx, tx, obj.id, attrs, caller));
      ctx.notify('router.update.end', { router: next });
      ctx.changed('router', obj.id);
      return next;
    },
    remove: async (obj) => {
      await transact(ctx, async (tx) => {
        const router = await getObj(tx, routerDef, obj.id);
        if (!router) throw routerDef.notFound(obj.id);
        const ports = await routerPorts(tx, router.id);
        const attached = ports.filter((p) => p.device_owner === ROUTER_INTERFACE);
        if (attached.length) throw netFault(409, 'RouterInUse', `Router ${router.id} has ports still attached: ${attached.map((p) => p.id).join(', ')}`);
        for (const p of ports) {
          await ensureGatewayUnused(tx, router, String(p.network_id));
          await deletePortIn(tx, p.id);
        }
        await deleteObj(tx, routerDef, router.id);
      });
      ctx.notify('router.delete.end', { router_id: obj.id });
      ctx.changed('router', obj.id);
    },
  };
}
