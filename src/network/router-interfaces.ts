/**
 * Router interfaces (`add_router_interface` / `remove_router_interface`) and the atomic route
 * actions (`add_extraroutes` / `remove_extraroutes`), with Neutron's rules: an interface by
 * subnet takes the subnet's gateway address on a new `network:router_interface` port (IPv6
 * subnets of one network share a port), an interface by port adopts a free port with
 * addresses; removal is refused while a floating IP or a route still needs the subnet.
 */
import type { Caller, NetworkContext } from './context.js';
import { netFault } from './faults.js';
import { floatingIpsOfRouter } from './floating-ips.js';
import { ipInCidr, parseCidr, parseIp } from './ipam/addr.js';
import type { FixedIp } from './ipam/allocate.js';
import { rangesOf, type Pool } from './ipam/pools.js';
import { networkDef } from './networks.js';
import { createPortIn, deletePortIn, portDef, updatePortIn } from './ports.js';
import { getObj, type Db } from './resource/store.js';
import { transact } from './resource/tx.js';
import type { Obj } from './resource/types.js';
import { isUuid } from './resource/validate.js';
import { routerDef, routesCheck, type Route } from './router-def.js';
import { badRouter, checkNoDuplicateSubnets, routerInterfaces, subnetsById, updateRouterIn } from './routers.js';
import { devicePortAttrs, internalAdmin, ROUTER_INTERFACE } from './service-ports.js';
import { subnetDef } from './subnets.js';

/** The body Neutron answers an interface action with. */
export interface InterfaceInfo {
  readonly id: string;
  readonly tenant_id: string;
  readonly project_id: string;
  readonly port_id: string;
  readonly network_id: string;
  readonly subnet_id: string;
  readonly subnet_ids: readonly string[];
}

const hasV6 = (p: Obj): boolean => (p.fixed_ips as FixedIp[]).some((f) => parseIp(f.ip_address)?.version === 6);

function infoOf(routerId: string, port: Obj, subnetId: string, subnetIds: readonly string[]): InterfaceInfo {
  const project = String(port.project_id ?? '');
  return { id: routerId, tenant_id: project, project_id: project, port_id: port.id, network_id: String(port.network_id), subnet_id: subnetId, subnet_ids: subnetIds };
}

/** `{subnet_id}` and/or `{port_id}` from an action body (Neutron's _validate_interface_info). */
function interfaceRequest(body: unknown, removal: boolean): { portId?: string; subnetId?: string } {
  const o = typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {};
  const hasPort = Object.hasOwn(o, 'port_id');
  const hasSubnet = Object.hasOwn(o, 'subnet_id');
  if (!hasPort && !hasSubnet) throw badRouter('Either subnet_id or port_id must be specified');
  for (const k of ['port_id', 'subnet_id'] as const) {
    if (Object.hasOwn(o, k) && !isUuid(o[k])) throw badRouter(`'${String(o[k])}' is not a valid UUID`);
  }
  if (!removal && hasPort && hasSubnet) throw badRouter('Cannot specify both subnet-id and port-id');
  return { portId: hasPort ? String(o.port_id) : undefined, subnetId: hasSubnet ? String(o.subnet_id) : undefined };
}

/** An IPv6 subnet whose RAs come from an outside router cannot be routed by ours. */
function checkAddressMode(subnet: Obj): void {
  if (subnet.ip_version === 6 && subnet.ipv6_ra_mode == null && subnet.ipv6_address_mode != null) {
    throw badRouter(`IPv6 subnet ${subnet.id} configured to receive RAs from an external router cannot be added to Neutron Router.`);
  }
}

/** A subnet the caller may see (its network's owner, shared or external), else 404. */
async function visibleSubnet(db: Db, id: string, caller: Caller): Promise<Obj> {
  const s = await getObj(db, subnetDef, id);
  if (s && (caller.isAdmin || s.project_id === caller.projectId)) return s;
  const net = s ? await getObj(db, networkDef, String(s.network_id)) : undefined;
  if (!s || !net || !(net.project_id === caller.projectId || net.shared === true || net['router:external'] === true)) throw subnetDef.notFound(id);
  return s;
}

/** A port the caller may see (its own or on its network), else 404. */
async function visiblePort(db: Db, id: string, caller: Caller): Promise<Obj> {
  const p = await getObj(db, portDef, id);
  if (p && (caller.isAdmin || p.project_id === caller.projectId)) return p;
  if (p && (await getObj(db, networkDef, String(p.network_id)))?.project_id === caller.projectId) return p;
  throw portDef.notFound(id);
}

async function addBySubnet(ctx: NetworkContext, tx: Db, router: Obj, subnetId: string, caller: Caller): Promise<InterfaceInfo> {
  const subnet = await visibleSubnet(tx, subnetId, caller);
  if (!subnet.gateway_ip) throw badRouter('Subnet for router interface must have a gateway IP');
  if (!caller.isAdmin && subnet.project_id !== caller.projectId) {
    throw badRouter(`Cannot add interface to router because subnet ${subnetId} is not owned by project making the request`);
  }
  checkAddressMode(subnet);
  await checkNoDuplicateSubnets(tx, router.id, [subnet]);
  const fixed = { subnet_id: subnet.id, ip_address: String(subnet.gateway_ip) };
  const admin = internalAdmin(String(router.project_id));
  if (subnet.ip_version === 6) {
    // Neutron keeps one router port per network for IPv6 prefixes: add this one to it.
    const shared = (await routerInterfaces(tx, router.id)).find((p) => p.network_id === subnet.network_id && hasV6(p));
    if (shared) {
      const keep = (shared.fixed_ips as FixedIp[]).map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address }));
      const port = await updatePortIn(ctx, tx, shared, { fixed_ips: [...keep, fixed] }, admin);
      return infoOf(router.id, port, subnet.id, [subnet.id]);
    }
  }
  const port = await createPortIn(ctx, tx, devicePortAttrs({
    networkId: String(subnet.network_id), projectId: String(router.project_id), deviceId: router.id, deviceOwner: ROUTER_INTERFACE, fixedIps: [fixed],
  }), admin);
  return infoOf(router.id, port, subnet.id, [subnet.id]);
}

async function addByPort(ctx: NetworkContext, tx: Db, router: Obj, portId: string, caller: Caller): Promise<InterfaceInfo> {
  const port = await visiblePort(tx, portId, caller);
  if (port.device_id !== '' && port.device_id != null) {
    throw netFault(409, 'PortInUse', `Unable to complete operation on port ${port.id} for network ${String(port.network_id)}. Port already has an attached device ${String(port.device_id)}.`);
  }
  const ips = port.fixed_ips as FixedIp[];
  if (ips.length === 0) throw badRouter('Router port must have at least one fixed IP');
  const byId = await subnetsById(tx, ips.map((f) => f.subnet_id));
  const subnets = [...byId.values()];
  subnets.forEach(checkAddressMode);
  if (hasV6(port)) {
    const other = (await routerInterfaces(tx, router.id)).find((p) => p.network_id === port.network_id && hasV6(p));
    if (other) {
      throw badRouter(`Cannot have multiple router ports with the same network id if both contain IPv6 subnets. Existing port ${other.id} has IPv6 subnet(s) and network id ${String(other.network_id)}`);
    }
  }
  await checkNoDuplicateSubnets(tx, router.id, subnets);
  if (subnets.filter((s) => s.ip_version === 4).length > 1) throw badRouter('Cannot have multiple IPv4 subnets on router port');
  if (!caller.isAdmin) {
    for (const f of ips) {
      const s = byId.get(f.subnet_id)!;
      const v = parseIp(f.ip_address)!.value;
      const inPool = rangesOf(s.allocation_pools as Pool[]).some((r) => v >= r.lo && v <= r.hi);
      if (!inPool && s.project_id !== caller.projectId) {
        throw badRouter(`Cannot add interface to router because specified port ${port.id} has an IP address out of the allocation pool of subnet ${s.id}, which is not owned by the project making the request`);
      }
    }
  }
  const updated = await updatePortIn(ctx, tx, port, { device_id: router.id, device_owner: ROUTER_INTERFACE }, internalAdmin(String(router.project_id)));
  return infoOf(router.id, updated, subnets[subnets.length - 1]!.id, subnets.map((s) => s.id));
}

/** 409 while a floating IP or a route of the router still needs `subnet`. */
async function ensureInterfaceUnused(db: Db, router: Obj, subnet: Obj): Promise<void> {
  const cidr = parseCidr(String(subnet.cidr))!;
  const onSubnet = new Set((await db.selectFrom('net_ip_allocation').select('port_id').where('subnet_id', '=', subnet.id).execute()).map((r) => String(r.port_id)));
  for (const f of await floatingIpsOfRouter(db, router.id)) {
    if (f.fixed_ip_address && ipInCidr(String(f.fixed_ip_address), cidr) && onSubnet.has(String(f.port_id))) {
      throw netFault(409, 'RouterInterfaceInUseByFloatingIP', `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`);
    }
  }
  if (((router.routes as Route[]) ?? []).some((r) => ipInCidr(r.nexthop, cidr))) {
    throw netFault(409, 'RouterInterfaceInUseByRoute', `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`);
  }
}

async function removeByPort(tx: Db, router: Obj, portId: string, subnetId: string | undefined): Promise<InterfaceInfo> {
  const port = (await routerInterfaces(tx, router.id)).find((p) => p.id === portId);
  if (!port) throw netFault(404, 'RouterInterfaceNotFound', `Router ${router.id} does not have an interface with id ${portId}`);
  const ids = (port.fixed_ips as FixedIp[]).map((f) => f.subnet_id);
  if (subnetId !== undefined && !ids.includes(subnetId)) {
    throw netFault(400, 'SubnetMismatchForPort', `Subnet on port ${portId} does not match the requested subnet ${subnetId}.`);
  }
  const subnets = [...(await subnetsById(tx, ids)).values()];
  for (const s of subnets) await ensureInterfaceUnused(tx, router, s);
  await deletePortIn(tx, port.id);
  return infoOf(router.id, port, subnets[0]?.id ?? ids[0] ?? '', subnets.map((s) => s.id));
}

async function removeBySubnet(ctx: NetworkContext, tx: Db, router: Obj, subnetId: string, caller: Caller): Promise<InterfaceInfo> {
  const subnet = await visibleSubnet(tx, subnetId, caller);
  const ports = (await routerInterfaces(tx, router.id)).filter((p) => p.network_id === subnet.network_id);
  if (ports.length) await ensureInterfaceUnused(tx, router, subnet);
  for (const p of ports) {
    const ips = p.fixed_ips as FixedIp[];
    if (!ips.some((f) => f.subnet_id === subnet.id)) continue;
    if (new Set(ips.map((f) => f.subnet_id)).size > 1) {
      // A multi-prefix (IPv6) port loses only this subnet's address.
      const keep = ips.filter((f) => f.subnet_id !== subnet.id).map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address }));
      await updatePortIn(ctx, tx, p, { fixed_ips: keep }, internalAdmin(String(router.project_id)));
    } else await deletePortIn(tx, p.id);
    return infoOf(router.id, p, subnet.id, [subnet.id]);
  }
  throw netFault(404, 'RouterInterfaceNotFoundForSubnet', `Router ${router.id} has no interface on subnet ${subnetId}`);
}

/** `PUT /routers/{id}/add_router_interface`. */
export async function addRouterInterface(ctx: NetworkContext, routerId: string, body: unknown, caller: Caller): Promise<InterfaceInfo> {
  const req = interfaceRequest(body, false);
  const info = await transact(ctx, async (tx) => {
    const router = await getObj(tx, routerDef, routerId);
    if (!router) throw routerDef.notFound(routerId);
    return req.portId ? addByPort(ctx, tx, router, req.portId, caller) : addBySubnet(ctx, tx, router, req.subnetId!, caller);
  });
  ctx.notify('router.interface.create', { router_interface: info });
  ctx.changed('router', routerId);
  return info;
}

/** `PUT /routers/{id}/remove_router_interface`. */
export async function removeRouterInterface(ctx: NetworkContext, routerId: string, body: unknown, caller: Caller): Promise<InterfaceInfo> {
  const req = interfaceRequest(body, true);
  const info = await transact(ctx, async (tx) => {
    const router = await getObj(tx, routerDef, routerId);
    if (!router) throw routerDef.notFound(routerId);
    return req.portId ? removeByPort(tx, router, req.portId, req.subnetId) : removeBySubnet(ctx, tx, router, req.subnetId!, caller);
  });
  ctx.notify('router.interface.delete', { router_interface: info });
  ctx.changed('router', routerId);
  return info;
}

/** Routes from an action body `{"router": {"routes": […]}}`. */
function routesOfBody(body: unknown): Route[] {
  const inner = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).router : undefined;
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw netFault(400, 'HTTPBadRequest', "Unable to find 'router' in request body");
  const { routes, ...rest } = inner as Record<string, unknown>;
  if (Object.keys(rest).length) throw netFault(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${Object.keys(rest).join(', ')}'`);
  if (routes === undefined) throw netFault(400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'routes' not specified");
  return routesCheck(routes, 'routes');
}

const sameRoute = (a: Route, b: Route): boolean => a.destination === b.destination && a.nexthop === b.nexthop;

/**
 * `PUT /routers/{id}/add_extraroutes` / `remove_extraroutes` (extraroute-atomic): merges into or
 * subtracts from the current routes in one transaction; the result is validated as a whole.
 */
export async function changeExtraRoutes(ctx: NetworkContext, routerId: string, body: unknown, caller: Caller, op: 'add' | 'remove'): Promise<Obj> {
  const given = routesOfBody(body);
  const next = await transact(ctx, async (tx) => {
    const router = await getObj(tx, routerDef, routerId);
    if (!router) throw routerDef.notFound(routerId);
    const old = (router.routes as Route[]) ?? [];
    const routes = op === 'add'
      ? [...old, ...given.filter((g) => !old.some((o) => sameRoute(o, g)))]
      : old.filter((o) => !given.some((g) => sameRoute(o, g)));
    return updateRouterIn(ctx, tx, routerId, { routes }, caller);
  });
  ctx.notify('router.update.end', { router: next });
  ctx.changed('router', routerId);
  return next;
}
