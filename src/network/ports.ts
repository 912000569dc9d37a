/**
 * Ports: MAC, fixed IPs (IPAM), security groups, allowed address pairs, port security, binding
 * and DNS attributes; the DHCP port of each network; and the rules Neutron applies to who may
 * set what and which ports the port API may not delete.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { badRequest, forbidden } from '../platform/http/faults.js';
import type { Caller, NetworkContext } from './context.js';
import { badAttr, netFault, notFoundOf } from './faults.js';
import { canonicalIp, parseCidr } from './ipam/addr.js';
import { allocateFixedIps, releaseFixedIps, type FixedIp, type FixedIpRequest } from './ipam/allocate.js';
import { networkDef } from './networks.js';
import { standardAttributes } from './resource/body.js';
import type { CustomFilter } from './resource/list.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, getObj, insertObj, nowStamp, saveObj, type Db } from './resource/store.js';
import { isUniqueViolation, transact } from './resource/tx.js';
import { checkQuotaForItems } from './quotas.js';
import type { Obj, ResourceDef } from './resource/types.js';
import { boolean, dict, listOf, macAddress, oneOf, string, uuid, type Check } from './resource/validate.js';
import { ensureDefaultGroup, securityGroupDef } from './security-groups.js';
import { subnetDef } from './subnets.js';
import { fixedIpsCheck } from './router-def.js';
import { internalAdmin } from './service-ports.js';

const addressPairsCheck: Check<{ ip_address: string; mac_address?: string }[]> = (v, attr) => {
  if (!Array.isArray(v)) throw badAttr(attr, `${JSON.stringify(v)} is not a list`);
  return v.map((p) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw netFault(400, 'AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    const { ip_address, mac_address, ...rest } = p as Record<string, unknown>;
    if (Object.keys(rest).length) throw badRequest(`Unrecognized attribute(s) '${Object.keys(rest).join(', ')}'`);
    if (ip_address === undefined) throw netFault(400, 'AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    if (typeof ip_address !== 'string' || !parseCidr(ip_address)) throw badAttr(attr, `'${String(ip_address)}' is not a valid IP address`);
    return mac_address === undefined || mac_address === null ? { ip_address } : { ip_address, mac_address: macAddress(mac_address, attr) };
  });
};

const VNIC_TYPES = ['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa', 'remote-managed'] as const;

export const portDef: ResourceDef = {
  member: 'port', collection: 'ports', table: 'net_port',
  columns: { network_id: 'network_id', device_id: 'device_id', device_owner: 'device_owner', mac_address: 'mac_address', 'binding:host_id': 'host' },
  sqlFilters: ['network_id', 'device_id', 'device_owner', 'mac_address'],
  notFound: (id) => notFoundOf('PortNotFound', `Port ${id} could not be found.`),
  attributes: {
    ...standardAttributes(),
    network_id: { post: true, put: false, required: true, check: uuid },
    admin_state_up: { post: true, put: true, default: true, check: boolean },
    mac_address: { post: true, put: true, check: macAddress },
    fixed_ips: { post: true, put: true, check: fixedIpsCheck },
    device_id: { post: true, put: true, default: '', check: string(255) },
    device_owner: { post: true, put: true, default: '', check: string(255) },
    status: { post: false, put: false },
    security_groups: { post: true, put: true, check: listOf(uuid, { unique: true }) },
    allowed_address_pairs: { post: true, put: true, default: () => [], check: addressPairsCheck, filter: false },
    port_security_enabled: { post: true, put: true, check: boolean },
    'binding:host_id': { post: true, put: true, default: '', check: string(255), visible: 'admin', adminWrite: true },
    'binding:vif_type': { post: false, put: false, visible: 'admin' },
    'binding:vif_details': { post: false, put: false, visible: 'admin', filter: false },
    'binding:vnic_type': { post: true, put: true, default: 'normal', check: oneOf(VNIC_TYPES) },
    'binding:profile': { post: true, put: true, default: () => ({}), check: dict, visible: 'admin', adminWrite: true, filter: false },
    dns_name: { post: true, put: true, default: '', check: string(255) },
    dns_assignment: { post: false, put: false, filter: false },
    dns_domain: { post: true, put: true, default: '', check: string(255) },
    extra_dhcp_opts: { post: true, put: true, default: () => [], check: listOf(dict), filter: false },
    ip_allocation: { post: false, put: false },
    propagate_uplink_status: { post: true, put: true, default: false, check: boolean },
    resource_request: { post: false, put: false, filter: false },
  },
};

/** `fixed_ips=ip_address=…`, `fixed_ips=subnet_id=…`, `fixed_ips=ip_address_substr=…`. */
const fixedIpsFilter: CustomFilter = (obj, values) => {
  const ips = (obj.fixed_ips as FixedIp[] | undefined) ?? [];
  return values.every((v) => {
    const [k, ...rest] = v.split('=');
    const want = rest.join('=');
    if (k === 'ip_address') return ips.some((f) => f.ip_address === want);
    if (k === 'subnet_id') return ips.some((f) => f.subnet_id === want);
    if (k === 'ip_address_substr') return ips.some((f) => f.ip_address.includes(want));
    return false;
  });
};

/** Device owners of ports the cloud itself manages (Neutron's network:* owners). */
const isNetworkDevice = (owner: unknown): boolean => typeof owner === 'string' && owner.startsWith('network:');
const PROTECTED_OWNERS = new Set(['network:router_interface', 'network:router_gateway', 'network:floatingip', 'network:router_interface_distributed', 'network:ha_router_replicated_interface']);

function generateMac(ctx: NetworkContext): string {
  const base = ctx.config.network.base_mac.split(':').slice(0, 3);
  const tail = [...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'));
  return [...base, ...tail].join(':');
}

function dnsAssignment(ctx: NetworkContext, obj: Obj): { hostname: string; ip_address: string; fqdn: string }[] {
  const ips = (obj.fixed_ips as FixedIp[]) ?? [];
  const domain = ctx.config.network.dns_domain;
  return ips.map((f) => {
    const hostname = obj.dns_name ? String(obj.dns_name) : `host-${f.ip_address.replace(/[.:]/g, '-')}`;
    return { hostname, ip_address: f.ip_address, fqdn: `${hostname}.${domain}` };
  });
}

function bindingView(obj: Obj): Record<string, unknown> {
  const host = String(obj['binding:host_id'] ?? '');
  const bound = host !== '' && obj['binding:vnic_type'] === 'normal';
  return {
    'binding:vif_type': host === '' ? 'unbound' : bound ? 'tap' : 'binding_failed',
    'binding:vif_details': bound ? { port_filter: true, connectivity: 'l2', bridge_name: `brq${String(obj.network_id).slice(0, 11)}` } : {},
  };
}

async function checkGroups(ctx: NetworkContext, db: Db, ids: readonly string[], projectId: string, caller: Caller): Promise<void> {
  for (const id of ids) {
    const g = await getObj(db, securityGroupDef, id);
    if (!g || (!caller.isAdmin && g.project_id !== projectId && g.shared !== true)) throw securityGroupDef.notFound(id);
  }
}

function checkPairs(ctx: NetworkContext, pairs: readonly { ip_address: string; mac_address?: string }[], portSecurity: boolean): void {
  if (pairs.length === 0) return;
  if (!portSecurity) throw netFault(409, 'AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
  if (pairs.length > ctx.config.network.max_allowed_address_pair) throw netFault(400, 'AllowedAddressPairExhausted', `The number of allowed address pair exceeds the maximum ${ctx.config.network.max_allowed_address_pair}.`);
  const keys = pairs.map((p) => `${p.ip_address}|${p.mac_address ?? ''}`);
  if (new Set(keys).size !== keys.length) throw netFault(400, 'DuplicateAddressPairInRequest', 'Request contains duplicate address pair.');
}

/** Policy Neutron applies to port attributes on networks the caller does not own. */
function checkNetworkOwnerRules(caller: Caller, network: Obj, attrs: Record<string, unknown>, action: 'create' | 'update'): void {
  if (caller.isAdmin || network.project_id === caller.projectId) return;
  if (isNetworkDevice(attrs.device_owner)) throw netFault(403, 'PolicyNotAuthorized', `(rule:${action}_port:device_owner) is disallowed by policy`);
  if (Array.isArray(attrs.fixed_ips) && (attrs.fixed_ips as FixedIpRequest[]).some((f) => f.ip_address !== undefined)) {
    throw netFault(403, 'PolicyNotAuthorized', `(rule:${action}_port:fixed_ips:ip_address) is disallowed by policy`);
  }
  if (attrs.mac_address !== undefined) throw netFault(403, 'PolicyNotAuthorized', `(rule:${action}_port:mac_address) is disallowed by policy`);
  if (attrs.port_security_enabled !== undefined) throw netFault(403, 'PolicyNotAuthorized', `(rule:${action}_port:port_security_enabled) is disallowed by policy`);
}

/** Creates a port inside a transaction (used by the API and by routers, floating IPs, DHCP). */
export async function createPortIn(ctx: NetworkContext, tx: Db, attrs: Record<string, unknown>, caller: Caller): Promise<Obj> {
  const networkId = String(attrs.network_id);
  const network = await getObj(tx, networkDef, networkId);
  const visible = network && (caller.isAdmin || network.project_id === caller.projectId || network.shared === true || network['router:external'] === true);
  if (!network || !visible) throw networkDef.notFound(networkId);
  checkNetworkOwnerRules(caller, network, attrs, 'create');
  const projectId = String(attrs.project_id ?? caller.projectId);
  const portSecurity = (attrs.port_security_enabled as boolean | undefined) ?? (network.port_security_enabled !== false);
  const pairs = (attrs.allowed_address_pairs as { ip_address: string; mac_address?: string }[]) ?? [];
  checkPairs(ctx, pairs, portSecurity);
  let groups = attrs.security_groups as string[] | undefined;
  if (groups !== undefined && groups.length > 0 && !portSecurity) {
    throw netFault(400, 'PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
  }
  if (groups === undefined) groups = portSecurity && !isNetworkDevice(attrs.device_owner) ? [await ensureDefaultGroup(ctx, tx, projectId)] : [];
  else await checkGroups(ctx, tx, groups, projectId, caller);
  const id = randomUUID();
  const mac = (attrs.mac_address as string | undefined) ?? generateMac(ctx);
  if (attrs.mac_address !== undefined) {
    const clash = await tx.selectFrom('net_port').select('id').where('network_id', '=', networkId).where('mac_address', '=', mac).executeTakeFirst();
    if (clash) throw netFault(409, 'MacAddressInUse', `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`);
  }
  const subnets = (await findObjs(tx, subnetDef, { network_id: networkId })).sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)) || a.id.localeCompare(b.id));
  const fixedIps = await allocateFixedIps(tx, subnets, networkId, attrs.fixed_ips as FixedIpRequest[] | undefined, mac, id);
  const now = nowStamp();
  const obj: Obj = {
    ...attrs, id, tenant_id: projectId, project_id: projectId, mac_address: mac, fixed_ips: fixedIps, status: 'DOWN',
    security_groups: groups, allowed_address_pairs: pairs, port_security_enabled: portSecurity,
    ip_allocation: 'immediate', resource_request: null, tags: [], created_at: now, updated_at: now, revision_number: 1,
  };
  Object.assign(obj, bindingView(obj));
  obj.dns_assignment = dnsAssignment(ctx, obj);
  try {
    await insertObj(tx, portDef, obj);
  } catch (err) {
    // A generated MAC that collided: the transaction retries with a new one.
    if (isUniqueViolation(err) && attrs.mac_address !== undefined) throw Object.assign(netFault(409, 'MacAddressInUse', `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`), { retry: false });
    throw err;
  }
  return obj;
}

/** Deletes a port and releases its addresses (inside a transaction). */
export async function deletePortIn(tx: Db, portId: string): Promise<void> {
  await releaseFixedIps(tx, portId);
  await deleteObj(tx, portDef, portId);
}

/** Updates a port inside a transaction. */
export async function updatePortIn(ctx: NetworkContext, tx: Db, obj: Obj, attrs: Record<string, unknown>, caller: Caller): Promise<Obj> {
  const network = (await getObj(tx, networkDef, String(obj.network_id)))!;
  checkNetworkOwnerRules(caller, network, attrs, 'update');
  const next: Obj = { ...obj, ...attrs };
  const portSecurity = next.port_security_enabled !== false;
  if (attrs.port_security_enabled === false && attrs.security_groups === undefined && (obj.security_groups as string[]).length > 0) {
    throw netFault(409, 'PortSecurityPortHasSecurityGroup', 'Port has security group associated. Cannot disable port security or ip address until security group is removed');
  }
  if (attrs.security_groups !== undefined) {
    const groups = attrs.security_groups as string[];
    if (groups.length && !portSecurity) throw netFault(400, 'PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
    await checkGroups(ctx, tx, groups, String(obj.project_id), caller);
  }
  if (attrs.allowed_address_pairs !== undefined || attrs.port_security_enabled === false) {
    checkPairs(ctx, next.allowed_address_pairs as { ip_address: string }[], portSecurity);
  }
  if (attrs.mac_address !== undefined && attrs.mac_address !== obj.mac_address) {
    if (obj['binding:host_id'] && obj.status === 'ACTIVE') throw netFault(409, 'PortBound', `Unable to complete operation on port ${obj.id}, port is already bound.`);
    const clash = await tx.selectFrom('net_port').select('id').where('network_id', '=', String(obj.network_id)).where('mac_address', '=', String(attrs.mac_address)).executeTakeFirst();
    if (clash) throw netFault(409, 'MacAddressInUse', `Unable to complete operation for network ${String(obj.network_id)}. The mac address ${String(attrs.mac_address)} is in use.`);
  }
  if (attrs.fixed_ips !== undefined) {
    const requested = attrs.fixed_ips as FixedIpRequest[];
    const current = obj.fixed_ips as FixedIp[];
    const kept = current.filter((f) => requested.some((r) => r.ip_address !== undefined && canonicalIp(r.ip_address) === f.ip_address && (r.subnet_id === undefined || r.subnet_id === f.subnet_id)));
    const fresh = requested.filter((r) => !(r.ip_address !== undefined && kept.some((k) => k.ip_address === canonicalIp(r.ip_address!))));
    await releaseFixedIps(tx, obj.id, kept);
    const subnets = await findObjs(tx, subnetDef, { network_id: String(obj.network_id) });
    const added = fresh.length ? await allocateFixedIps(tx, subnets, String(obj.network_id), fresh, String(next.mac_address), obj.id) : [];
    next.fixed_ips = [...kept, ...added];
  }
  Object.assign(next, bindingView(next));
  next.dns_assignment = dnsAssignment(ctx, next);
  return saveObj(tx, portDef, next);
}

/** Keeps the network's DHCP port in step with its DHCP-enabled subnets. */
export async function syncDhcpPort(ctx: NetworkContext, tx: Db, network: Obj, subnets: readonly Obj[]): Promise<void> {
  const dhcpSubnets = subnets.filter((s) => s.enable_dhcp === true && !(s.ip_version === 6 && s.ipv6_address_mode === 'slaac'));
  const existing = (await findObjs(tx, portDef, { network_id: network.id, device_owner: 'network:dhcp' }))[0];
  if (dhcpSubnets.length === 0) {
    if (existing) await deletePortIn(tx, existing.id);
    return;
  }
  const admin = internalAdmin(String(network.project_id));
  if (!existing) {
    await createPortIn(ctx, tx, {
      network_id: network.id, project_id: network.project_id, tenant_id: network.project_id, name: '', description: '',
      admin_state_up: true, device_id: `dhcp-${network.id}`, device_owner: 'network:dhcp',
      fixed_ips: dhcpSubnets.map((s) => ({ subnet_id: s.id })), 'binding:host_id': '', 'binding:vnic_type': 'normal',
      'binding:profile': {}, dns_name: '', dns_domain: '', extra_dhcp_opts: [], propagate_uplink_status: false,
    }, admin);
    return;
  }
  const have = new Set((existing.fixed_ips as FixedIp[]).map((f) => f.subnet_id));
  const want = new Set(dhcpSubnets.map((s) => s.id));
  if ([...want].every((s) => have.has(s)) && [...have].every((s) => want.has(s))) return;
  const keep = (existing.fixed_ips as FixedIp[]).filter((f) => want.has(f.subnet_id)).map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address }));
  const add = [...want].filter((s) => !have.has(s)).map((s) => ({ subnet_id: s }));
  await updatePortIn(ctx, tx, existing, { fixed_ips: [...keep, ...add] }, admin);
}

/** Removes a subnet's addresses from ports (its allocations are released by the caller). */
export async function dropSubnetAddresses(tx: Db, subnetId: string, portIds: readonly string[]): Promise<void> {
  for (const id of portIds) {
    const p = await getObj(tx, portDef, id);
    if (!p) continue;
    await saveObj(tx, portDef, { ...p, fixed_ips: (p.fixed_ips as FixedIp[]).filter((f) => f.subnet_id !== subnetId) });
  }
}

/** Sets ports' status as an agent reports it (ACTIVE when plugged, DOWN otherwise). */
export async function setPortStatus(ctx: NetworkContext, ids: readonly string[], status: 'ACTIVE' | 'DOWN' | 'BUILD' | 'ERROR'): Promise<void> {
  for (const id of ids) {
    await transact(ctx, async (tx) => {
      const p = await getObj(tx, portDef, id);
      if (p && p.status !== status) await saveObj(tx, portDef, { ...p, status });
    });
  }
}

/** What other modules add to port deletion. */
export interface PortHooks {
  /** Runs in the delete's transaction before the port goes (floating IPs let go of it); returns routers to signal. */
  beforeDelete?(tx: Db, port: Obj): Promise<readonly string[]>;
}

export function portBehaviour(ctx: NetworkContext, hooks: PortHooks = {}): ResourceBehaviour {
  return {
    def: portDef,
    customFilters: { fixed_ips: fixedIpsFilter },
    visibleTo: async (obj, caller) => {
      const net = await getObj(ctx.db, networkDef, String(obj.network_id));
      return !!net && net.project_id === caller.projectId;
    },
    create: async (items, caller) => {
      const made = await transact(ctx, async (tx) => {
        // Only API creates count against quota; the cloud's own ports (DHCP, router) do not.
        await checkQuotaForItems(ctx, tx, items, 'port', caller.projectId);
        const out: Obj[] = [];
        for (const attrs of items) out.push(await createPortIn(ctx, tx, attrs, caller));
        return out;
      });
      for (const p of made) { ctx.notify('port.create.end', { port: p }); ctx.changed('port', p.id); }
      return made;
    },
    update: async (obj, attrs, caller) => {
      if (!caller.isAdmin && obj.project_id !== caller.projectId) throw forbidden(`(rule:update_port) is disallowed by policy`);
      const next = await transact(ctx, (tx) => updatePortIn(ctx, tx, obj, attrs, caller));
      ctx.notify('port.update.end', { port: next });
      ctx.changed('port', obj.id);
      return next;
    },
    remove: async (obj, caller) => {
      if (!caller.isAdmin && obj.project_id !== caller.projectId) {
        const net = await getObj(ctx.db, networkDef, String(obj.network_id));
        if (!net || net.project_id !== caller.projectId) throw forbidden(`(rule:delete_port) is disallowed by policy`);
      }
      if (PROTECTED_OWNERS.has(String(obj.device_owner)) && obj.device_id) {
        throw netFault(409, 'ServicePortInUse', `Port ${obj.id} cannot be deleted directly via the port API: has device owner ${String(obj.device_owner)}.`);
      }
      const routers = await transact(ctx, async (tx) => {
        const touched = (await hooks.beforeDelete?.(tx, obj)) ?? [];
        await deletePortIn(tx, obj.id);
        return touched;
      });
      for (const r of routers) ctx.changed('router', r);
      ctx.notify('port.delete.end', { port_id: obj.id });
      ctx.changed('port', obj.id);
    },
  };
}
