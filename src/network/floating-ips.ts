/**
 * Floating IPs: an address of an external network (held by a `network:floatingip` port, so IPAM
 * treats it like any other allocation) mapped 1:1 onto a fixed IPv4 address of a port that some
 * router connects to that external network. Association rules and faults follow Neutron's
 * l3_db; `port_details` is the `fip-port-details` extension.
 */
import { randomUUID } from 'node:crypto';
import { Fault } from '../platform/http/faults.js';
import type { Caller, NetworkContext } from './context.js';
import { netFault, notFoundOf } from './faults.js';
import { canonicalIp, parseIp } from './ipam/addr.js';
import type { FixedIp, FixedIpRequest } from './ipam/allocate.js';
import { networkDef } from './networks.js';
import { createPortIn, deletePortIn, portDef } from './ports.js';
import { checkQuotaForItems } from './quotas.js';
import { standardAttributes } from './resource/body.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, getObj, insertObj, nowStamp, saveObj, type Db } from './resource/store.js';
import { transact } from './resource/tx.js';
import type { Obj, ResourceDef } from './resource/types.js';
import { ipAddressOrNone, string, uuid, uuidOrNone } from './resource/validate.js';
import { routerDef, type GatewayInfo } from './router-def.js';
import { devicePortAttrs, FLOATING_IP_OWNER, internalAdmin, ROUTER_INTERFACE } from './service-ports.js';
import { subnetDef } from './subnets.js';

export const floatingIpDef: ResourceDef = {
  member: 'floatingip', collection: 'floatingips', table: 'net_floating_ip',
  columns: { floating_network_id: 'floating_network_id', port_id: 'port_id', floating_ip_address: 'floating_ip_address', fixed_ip_address: 'fixed_ip_address' },
  sqlFilters: ['floating_network_id', 'floating_ip_address'],
  notFound: (id) => notFoundOf('FloatingIPNotFound', `Floating IP ${id} could not be found`),
  attributes: {
    ...standardAttributes({ name: false }),
    floating_ip_address: { post: true, put: false, default: null, check: ipAddressOrNone },
    // Input only in Neutron (the subnet to allocate from); shown here as the subnet the address came from.
    subnet_id: { post: true, put: false, default: null, check: uuidOrNone },
    floating_network_id: { post: true, put: false, required: true, check: uuid },
    router_id: { post: false, put: false },
    port_id: { post: true, put: true, default: null, check: uuidOrNone },
    fixed_ip_address: { post: true, put: true, default: null, check: ipAddressOrNone },
    status: { post: false, put: false },
    port_details: { post: false, put: false, filter: false },
    dns_name: { post: true, put: false, default: '', check: string(255) },
    dns_domain: { post: true, put: false, default: '', check: string(255) },
  },
};

const badFip = (msg: string): Fault => netFault(400, 'BadRequest', `Bad floatingip request: ${msg}.`);
const isV4 = (ip: string): boolean => parseIp(ip)?.version === 4;
/** An address attribute in canonical form (validated already), or null. */
const canon = (v: unknown): string | null => (typeof v === 'string' ? canonicalIp(v) ?? v : null);

/** What an association resolves to (all null when the floating IP is not associated). */
interface Association { port_id: string | null; fixed_ip_address: string | null; router_id: string | null }
const NONE: Association = { port_id: null, fixed_ip_address: null, router_id: null };

/**
 * The router that connects `subnet` (through an interface) with `externalNetworkId` (through its
 * gateway); one whose interface holds the subnet's gateway address wins. 404 when none does.
 */
export async function routerForFloatingIp(db: Db, port: Obj, subnet: Obj, externalNetworkId: string): Promise<string> {
  const interfaces = (await findObjs(db, portDef, { network_id: String(port.network_id), device_owner: ROUTER_INTERFACE }))
    .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)) || a.id.localeCompare(b.id));
  let first: string | undefined;
  for (const p of interfaces) {
    const ip = (p.fixed_ips as FixedIp[]).find((f) => f.subnet_id === subnet.id);
    if (!ip) continue;
    const router = await getObj(db, routerDef, String(p.device_id));
    const gw = router?.external_gateway_info as GatewayInfo | null | undefined;
    if (!router || !gw || gw.network_id !== externalNetworkId) continue;
    if (ip.ip_address === subnet.gateway_ip) return router.id;
    first ??= router.id;
  }
  if (first) return first;
  throw netFault(404, 'ExternalGatewayForFloatingIPNotFound',
    `External network ${externalNetworkId} is not reachable from subnet ${subnet.id}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`);
}

/** Validates an association of `fip` with a port (and fixed IP) and finds its router. */
async function associate(db: Db, fip: Obj, portId: string, fixedIp: string | null, caller: Caller): Promise<Association> {
  const port = await getObj(db, portDef, portId);
  let visible = !!port && (caller.isAdmin || port.project_id === caller.projectId);
  if (port && !visible) visible = (await getObj(db, networkDef, String(port.network_id)))?.project_id === caller.projectId;
  if (!port || !visible) throw portDef.notFound(portId);
  if (port.project_id !== fip.project_id && !caller.isAdmin) {
    throw badFip(`Cannot process floating IP association with Port ${portId}, since that port is owned by a different tenant`);
  }
  if (port.device_owner === 'network:dhcp') throw badFip(`Port ${portId} is unable to be assigned a floating IP`);
  const ips = (port.fixed_ips as FixedIp[]) ?? [];
  let chosen: FixedIp | undefined;
  if (fixedIp !== null) {
    if (!isV4(fixedIp)) throw badFip(`Cannot process floating IP association with ${fixedIp}, since that is not an IPv4 address`);
    chosen = ips.find((f) => f.ip_address === fixedIp);
    if (!chosen) throw badFip(`Port ${portId} does not have fixed ip ${fixedIp}`);
  } else {
    const v4 = ips.filter((f) => isV4(f.ip_address));
    if (v4.length === 0) throw badFip(`Cannot add floating IP to port ${portId} that has no fixed IPv4 addresses`);
    if (v4.length > 1) throw badFip(`Port ${portId} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`);
    chosen = v4[0]!;
  }
  const subnet = (await getObj(db, subnetDef, chosen.subnet_id))!;
  const routerId = await routerForFloatingIp(db, port, subnet, String(fip.floating_network_id));
  const taken = (await findObjs(db, floatingIpDef, { port_id: portId, floating_network_id: String(fip.floating_network_id) }))
    .find((o) => o.id !== fip.id && o.fixed_ip_address === chosen!.ip_address);
  if (taken) {
    throw netFault(409, 'FloatingIPPortAlreadyAssociated',
      `Cannot associate floating IP ${String(fip.floating_ip_address)} (${fip.id}) with port ${portId} using fixed IP ${chosen.ip_address}, as that fixed IP already has a floating IP on external network ${String(fip.floating_network_id)}.`);
  }
  return { port_id: portId, fixed_ip_address: chosen.ip_address, router_id: routerId };
}

/** The external port's fixed IPs to ask for: the given subnet/address, else each IPv4 subnet in turn. */
function addressChoices(subnets: readonly Obj[], subnetId: string | null, address: string | null): FixedIpRequest[][] {
  if (subnetId !== null || address !== null) {
    const one: FixedIpRequest = {};
    if (subnetId !== null) one.subnet_id = subnetId;
    if (address !== null) one.ip_address = address;
    return [[one]];
  }
  return subnets.filter((s) => s.ip_version === 4).map((s) => [{ subnet_id: s.id }]);
}

async function createOne(ctx: NetworkContext, tx: Db, attrs: Record<string, unknown>, caller: Caller): Promise<Obj> {
  const address = canon(attrs.floating_ip_address);
  if (address !== null && !caller.isAdmin) throw netFault(403, 'PolicyNotAuthorized', '(rule:create_floatingip:floating_ip_address) is disallowed by policy');
  const networkId = String(attrs.floating_network_id);
  const net = await getObj(tx, networkDef, networkId);
  if (!net || !(caller.isAdmin || net.project_id === caller.projectId || net.shared === true || net['router:external'] === true)) throw networkDef.notFound(networkId);
  if (net['router:external'] !== true) throw badFip(`Network ${networkId} is not a valid external network`);
  const subnets = (await findObjs(tx, subnetDef, { network_id: networkId }))
    .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)) || a.id.localeCompare(b.id));
  if (!subnets.some((s) => s.ip_version === 4)) throw badFip(`Network ${networkId} does not contain any IPv4 subnet`);
  if (attrs.fixed_ip_address != null && !attrs.port_id) throw badFip('fixed_ip_address cannot be specified without a port_id');
  const id = randomUUID();
  const projectId = String(attrs.project_id);
  let port: Obj | undefined;
  for (const fixedIps of addressChoices(subnets, attrs.subnet_id as string | null, address)) {
    try {
      port = await createPortIn(ctx, tx, devicePortAttrs({ networkId, projectId: '', deviceId: id, deviceOwner: FLOATING_IP_OWNER, fixedIps }), internalAdmin(''));
      break;
    } catch (err) {
      // A full subnet: try the next IPv4 subnet (nothing was written for this attempt).
      if (err instanceof Fault && err.kind === 'IpAddressGenerationFailure') continue;
      throw err;
    }
  }
  const v4 = ((port?.fixed_ips as FixedIp[] | undefined) ?? []).filter((f) => isV4(f.ip_address));
  if (!port || v4.length === 0) throw netFault(400, 'ExternalIpAddressExhausted', `Unable to find any IP address on external network ${networkId}.`);
  // Neutron's PORT_STATUS_NOTAPPLICABLE: no agent binds this port, it only holds the address.
  port = await saveObj(tx, portDef, { ...port, status: 'N/A' });
  const now = nowStamp();
  const fip: Obj = {
    id, tenant_id: projectId, project_id: projectId, description: attrs.description ?? '',
    floating_network_id: networkId, floating_ip_address: v4[0]!.ip_address, subnet_id: v4[0]!.subnet_id,
    floating_port_id: port.id, ...NONE, status: 'DOWN', port_details: null,
    dns_name: attrs.dns_name ?? '', dns_domain: attrs.dns_domain ?? '',
    tags: [], created_at: now, updated_at: now, revision_number: 1,
  };
  if (attrs.port_id) Object.assign(fip, await associate(tx, fip, String(attrs.port_id), canon(attrs.fixed_ip_address), caller));
  await insertObj(tx, floatingIpDef, fip);
  return fip;
}

/** Deletes a floating IP and its external port (the address goes back to the pool). */
async function deleteFloatingIpIn(tx: Db, fip: Obj): Promise<void> {
  if (fip.floating_port_id) await deletePortIn(tx, String(fip.floating_port_id));
  await deleteObj(tx, floatingIpDef, fip.id);
}

/**
 * Disassociates every floating IP of a port that is going away (called in the port delete's
 * transaction); returns the routers whose NAT changes.
 */
export async function disassociateFloatingIps(tx: Db, portId: string): Promise<string[]> {
  const routers = new Set<string>();
  for (const fip of await findObjs(tx, floatingIpDef, { port_id: portId })) {
    if (fip.router_id) routers.add(String(fip.router_id));
    await saveObj(tx, floatingIpDef, { ...fip, ...NONE, status: 'DOWN' });
  }
  return [...routers];
}

/** Deletes the floating IPs of an external network that are not associated (before the network goes). */
export async function deleteDisassociatedFloatingIps(ctx: NetworkContext, networkId: string): Promise<void> {
  const gone = await transact(ctx, async (tx) => {
    const fips = (await findObjs(tx, floatingIpDef, { floating_network_id: networkId })).filter((f) => !f.port_id);
    for (const f of fips) await deleteFloatingIpIn(tx, f);
    return fips;
  });
  for (const f of gone) ctx.notify('floatingip.delete.end', { floatingip_id: f.id });
}

/** Floating IPs whose NAT a router performs (for the data plane and the router's in-use checks). */
export async function floatingIpsOfRouter(db: Db, routerId: string): Promise<Obj[]> {
  // No router column: scan the associated ones (a port_id is set whenever router_id is).
  return (await db.selectFrom('net_floating_ip').select('body').where('port_id', 'is not', null).execute())
    .map((r) => JSON.parse(String(r.body)) as Obj).filter((f) => f.router_id === routerId);
}

/**
 * Sets floating IPs' status as the agent applied them (ACTIVE) or removed them (DOWN). A report
 * that crossed a disassociation in flight never makes an unassociated floating IP ACTIVE.
 */
export async function setFloatingIpStatus(ctx: NetworkContext, ids: readonly string[], status: 'ACTIVE' | 'DOWN' | 'ERROR'): Promise<void> {
  for (const id of ids) {
    await transact(ctx, async (tx) => {
      const f = await getObj(tx, floatingIpDef, id);
      if (f && f.status !== status && (status !== 'ACTIVE' || f.port_id)) await saveObj(tx, floatingIpDef, { ...f, status });
    });
  }
}

/** Adds `port_details` (fip-port-details) from the associated ports as they are now. */
async function decorate(ctx: NetworkContext, objs: Obj[]): Promise<void> {
  const ids = [...new Set(objs.map((o) => o.port_id).filter((p): p is string => typeof p === 'string'))];
  const ports = new Map((ids.length ? await findObjs(ctx.db, portDef, { id: ids }) : []).map((p) => [p.id, p]));
  for (const o of objs as Record<string, unknown>[]) {
    const p = typeof o.port_id === 'string' ? ports.get(o.port_id) : undefined;
    o.port_details = p ? {
      name: p.name, network_id: p.network_id, mac_address: p.mac_address, admin_state_up: p.admin_state_up,
      status: p.status, device_id: p.device_id, device_owner: p.device_owner,
    } : null;
  }
}

const signal = (ctx: NetworkContext, ...routers: unknown[]): void => {
  for (const r of new Set(routers)) if (typeof r === 'string' && r) ctx.changed('router', r);
};

export function floatingIpBehaviour(ctx: NetworkContext): ResourceBehaviour {
  return {
    def: floatingIpDef,
    decorate: (objs) => decorate(ctx, objs),
    create: async (items, caller) => {
      const made = await transact(ctx, async (tx) => {
        await checkQuotaForItems(ctx, tx, items, 'floatingip', caller.projectId);
        const out: Obj[] = [];
        for (const attrs of items) out.push(await createOne(ctx, tx, attrs, caller));
        return out;
      });
      for (const f of made) { ctx.notify('floatingip.create.end', { floatingip: f }); signal(ctx, f.router_id); }
      return made;
    },
    update: async (obj, attrs, caller) => {
      const [before, next] = await transact(ctx, async (tx) => {
        const fip = (await getObj(tx, floatingIpDef, obj.id)) ?? (() => { throw floatingIpDef.notFound(obj.id); })();
        const fixedIp = canon(attrs.fixed_ip_address);
        if (fixedIp !== null && !attrs.port_id) throw badFip('fixed_ip_address cannot be specified without a port_id');
        let assoc: Association;
        if ('port_id' in attrs) assoc = attrs.port_id ? await associate(tx, fip, String(attrs.port_id), fixedIp, caller) : NONE;
        // No port in the request: the current association is checked again (its router may differ now).
        else assoc = fip.port_id ? await associate(tx, fip, String(fip.port_id), (fip.fixed_ip_address as string | null) ?? null, caller) : NONE;
        const changed: Obj = { ...fip, ...assoc };
        if (attrs.description !== undefined) changed.description = attrs.description;
        if (assoc.port_id !== fip.port_id) changed.status = 'DOWN';
        return [fip, await saveObj(tx, floatingIpDef, changed)] as const;
      });
      ctx.notify('floatingip.update.end', { floatingip: next });
      signal(ctx, before.router_id, next.router_id);
      return next;
    },
    remove: async (obj) => {
      const fip = await transact(ctx, async (tx) => {
        const f = await getObj(tx, floatingIpDef, obj.id);
        if (!f) throw floatingIpDef.notFound(obj.id);
        await deleteFloatingIpIn(tx, f);
        return f;
      });
      ctx.notify('floatingip.delete.end', { floatingip_id: fip.id });
      signal(ctx, fip.router_id);
    },
  };
}
