/**
 * Subnets: CIDR (strict, or carved from a subnet pool), version, gateway, allocation pools, DNS
 * servers, host routes, DHCP and the IPv6 modes — validated as Neutron does — and the DHCP port
 * kept in step.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, forbidden } from '../platform/http/faults.js';
import type { Caller, NetworkContext } from './context.js';
import { badAttr, netFault, notFoundOf } from './faults.js';
import { canonicalIp, formatCidr, formatIp, ipInCidr, overlaps, parseCidr, parseIp, type Cidr } from './ipam/addr.js';
import { checkPools, defaultPools, rangesOf, usable, type Pool } from './ipam/pools.js';
import { networkDef } from './networks.js';
import { standardAttributes } from './resource/body.js';
import type { ResourceBehaviour } from './resource/routes.js';
import { deleteObj, findObjs, getObj, insertObj, nowStamp, saveObj, type Db } from './resource/store.js';
import { transact } from './resource/tx.js';
import { checkQuotaForItems } from './quotas.js';
import { checkPoolAffinity, subnetFromPool } from './subnetpools.js';
import type { Obj, ResourceDef } from './resource/types.js';
import { boolean, integer, ipAddressOrNone, listOf, oneOfOrNone, string, uuid, uuidOrNone, type Check } from './resource/validate.js';

const IPV6_MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;

const ipVersion: Check<number> = (v, attr) => {
  const n = integer()(v, attr);
  if (n !== 4 && n !== 6) throw badAttr(attr, `${n} is not in [4, 6]`);
  return n;
};
const nameservers: Check<string[]> = (v, attr) => listOf(string(255))(v, attr).map((ns) => {
  const c = canonicalIp(ns);
  if (!c) throw badAttr(attr, `'${ns}' is not a valid nameserver`);
  return ns;
});
const hostRoutes: Check<{ destination: string; nexthop: string }[]> = (v, attr) => {
  if (!Array.isArray(v)) throw badAttr(attr, `${JSON.stringify(v)} is not a list`);
  return v.map((r) => {
    if (typeof r !== 'object' || r === null) throw badAttr(attr, `${JSON.stringify(r)} is not a dictionary`);
    const { destination, nexthop, ...rest } = r as Record<string, unknown>;
    if (Object.keys(rest).length) throw badAttr(attr, `Unrecognized keys ${Object.keys(rest).join(', ')}`);
    const d = typeof destination === 'string' ? parseCidr(destination) : undefined;
    if (!d) throw badAttr(attr, `'${String(destination)}' is not a valid IP subnet`);
    if (typeof nexthop !== 'string' || !canonicalIp(nexthop)) throw badAttr(attr, `'${String(nexthop)}' is not a valid IP address`);
    return { destination: formatCidr(d), nexthop };
  });
};
const poolsCheck: Check<{ start: string; end: string }[]> = (v, attr) => {
  if (!Array.isArray(v)) throw badAttr(attr, `${JSON.stringify(v)} is not a list`);
  return v.map((p) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw badAttr(attr, `${JSON.stringify(p)} is not a dictionary`);
    const { start, end, ...rest } = p as Record<string, unknown>;
    if (Object.keys(rest).length || typeof start !== 'string' || typeof end !== 'string') throw badAttr(attr, `Invalid data format for IP pool: '${JSON.stringify(p)}'`);
    if (!canonicalIp(start) || !canonicalIp(end)) throw badAttr(attr, `Invalid data format for IP pool: '${JSON.stringify(p)}'`);
    return { start, end };
  });
};

export const subnetDef: ResourceDef = {
  member: 'subnet', collection: 'subnets', table: 'net_subnet',
  columns: { network_id: 'network_id', subnetpool_id: 'subnetpool_id' },
  sqlFilters: ['network_id'],
  notFound: (id) => notFoundOf('SubnetNotFound', `Subnet ${id} could not be found.`),
  attributes: {
    ...standardAttributes(),
    network_id: { post: true, put: false, required: true, check: uuid },
    ip_version: { post: true, put: false, required: true, check: ipVersion },
    cidr: { post: true, put: false, check: string(64) },
    prefixlen: { post: true, put: false, check: integer(0, 128), visible: 'none' },
    subnetpool_id: { post: true, put: false, default: null, check: uuidOrNone },
    use_default_subnetpool: { post: true, put: false, check: boolean, visible: 'none' },
    gateway_ip: { post: true, put: true, check: ipAddressOrNone },
    allocation_pools: { post: true, put: true, check: poolsCheck, filter: false },
    dns_nameservers: { post: true, put: true, default: () => [], check: nameservers },
    host_routes: { post: true, put: true, default: () => [], check: hostRoutes, filter: false },
    enable_dhcp: { post: true, put: true, default: true, check: boolean },
    ipv6_ra_mode: { post: true, put: false, default: null, check: oneOfOrNone(IPV6_MODES) },
    ipv6_address_mode: { post: true, put: false, default: null, check: oneOfOrNone(IPV6_MODES) },
    service_types: { post: true, put: true, default: () => [], check: listOf(string(255)), filter: false },
    segment_id: { post: true, put: false, default: null, check: uuidOrNone },
    dns_publish_fixed_ip: { post: true, put: true, default: false, check: boolean },
  },
};

/** Hooks into ports (which own the DHCP port and know which ports use a subnet). */
export interface SubnetHooks {
  /** Creates or refreshes the network's DHCP port after a DHCP-enabled subnet appears/changes. */
  syncDhcpPort(tx: Db, network: Obj, subnets: readonly Obj[]): Promise<void>;
  /** Removes a deleted subnet's addresses from these ports' fixed IPs. */
  dropAddressesOf(tx: Db, subnetId: string, portIds: readonly string[]): Promise<void>;
}

const cidrOf = (s: Obj): Cidr => parseCidr(String(s.cidr))!;

function checkIpv6Modes(version: number, ra: unknown, addr: unknown, cidr: Cidr): void {
  if (version === 4) {
    if (ra !== null && ra !== undefined) throw badRequest('Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4.');
    if (addr !== null && addr !== undefined) throw badRequest('Invalid input for operation: ipv6_address_mode is not valid when ip_version is 4.');
    return;
  }
  if (ra && addr && ra !== addr) {
    throw badRequest(`Invalid input for operation: ipv6_ra_mode set to '${String(ra)}' with ipv6_address_mode set to '${String(addr)}' is not valid. If both attributes are set, they must be the same value.`);
  }
  if ((ra === 'slaac' || addr === 'slaac' || addr === 'dhcpv6-stateless') && cidr.prefix !== 64) {
    throw badRequest('Invalid input for operation: Invalid CIDR for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64.');
  }
}

function checkGateway(c: Cidr, gw: string): void {
  const p = parseIp(gw)!;
  if (p.version !== c.version) throw badRequest(`Invalid input for operation: Gateway IP version inconsistent with allocation pool version.`);
  if (c.version === 4 && c.prefix < 31 && ipInCidr(gw, c)) {
    const u = usable(c);
    if (p.value < u.lo || p.value > u.hi) throw badRequest(`Gateway ip ${gw} conflicts with allocation pool or is not valid for subnet ${formatCidr(c)}.`);
  }
}

function checkGatewayVsPools(gw: string | null, pools: readonly Pool[], subnetId: string): void {
  if (!gw) return;
  const v = parseIp(gw)!.value;
  for (const r of rangesOf(pools)) {
    if (v >= r.lo && v <= r.hi) throw netFault(409, 'GatewayConflictWithAllocationPools', `Gateway ip ${gw} conflicts with allocation pool ${formatRange(pools, r)} of subnet ${subnetId}`);
  }
}
const formatRange = (pools: readonly Pool[], r: { lo: bigint; hi: bigint }): string => {
  const p = pools.find((x) => parseIp(x.start)!.value === r.lo);
  return p ? `${p.start}-${p.end}` : '';
};

function checkLists(ctx: NetworkContext, attrs: Record<string, unknown>, c: Cidr): void {
  const dns = attrs.dns_nameservers as string[] | undefined;
  if (dns) {
    if (dns.length > ctx.config.network.max_dns_nameservers) throw netFault(400, 'DNSNameServersExhausted', `Unable to complete operation for ${c ? formatCidr(c) : ''}. The number of DNS nameservers exceeds the limit ${ctx.config.network.max_dns_nameservers}.`);
    if (new Set(dns).size !== dns.length) throw badRequest(`Invalid input for dns_nameservers. Reason: Duplicate nameserver '${dns.find((d, i) => dns.indexOf(d) !== i)}'.`);
  }
  const routes = attrs.host_routes as { destination: string; nexthop: string }[] | undefined;
  if (routes) {
    if (routes.length > ctx.config.network.max_subnet_host_routes) throw netFault(400, 'HostRoutesExhausted', `Unable to complete operation for ${formatCidr(c)}. The number of host routes exceeds the limit ${ctx.config.network.max_subnet_host_routes}.`);
    for (const r of routes) {
      if (parseCidr(r.destination)!.version !== c.version || parseIp(r.nexthop)!.version !== c.version) {
        throw badRequest(`Invalid input for operation: Host route ${r.destination} via ${r.nexthop} has a different IP version than the subnet.`);
      }
    }
  }
}

async function createOne(ctx: NetworkContext, tx: Db, attrs: Record<string, unknown>, caller: Caller, hooks: SubnetHooks): Promise<Obj> {
  const networkId = String(attrs.network_id);
  const network = await getObj(tx, networkDef, networkId);
  const seen = network && (caller.isAdmin || network.project_id === caller.projectId || network.shared === true || network['router:external'] === true);
  if (!network || !seen) throw networkDef.notFound(networkId);
  if (!caller.isAdmin && network.project_id !== caller.projectId) throw forbidden(`(rule:create_subnet) is disallowed by policy`);
  const pooled = await subnetFromPool(ctx, tx, attrs, caller);
  const given = pooled?.cidr ?? attrs.cidr;
  if (given === undefined) throw badRequest('Bad subnets request: a subnetpool must be specified in the absence of a cidr');
  const text = String(given);
  const loose = parseCidr(text);
  if (!loose || !text.includes('/')) throw badAttr('cidr', `'${text}' is not a valid IP subnet`);
  const c = parseCidr(text, true);
  if (!c) throw badAttr('cidr', `'${text}' isn't a recognized IP subnet cidr, '${formatCidr(loose)}' is recommended`);
  const version = attrs.ip_version as number;
  if (c.version !== version) throw badRequest(`Invalid input for operation: Cidr ${text} does not match ip_version ${version}.`);
  if (c.prefix === 0) throw badRequest(`Invalid input for operation: 0.0.0.0/0 is not allowed as subnet CIDR.`);
  if (version === 4 && c.prefix > 30) throw badRequest(`Invalid input for operation: Requested subnet with cidr: ${text} is too small (prefix length must be at most 30).`);
  checkIpv6Modes(version, attrs.ipv6_ra_mode, attrs.ipv6_address_mode, c);
  const siblings = await findObjs(tx, subnetDef, { network_id: networkId });
  for (const s of siblings) {
    if (overlaps(cidrOf(s), c)) throw badRequest(`Invalid input for operation: Requested subnet with cidr: ${text} for network: ${networkId} overlaps with another subnet.`);
  }
  checkPoolAffinity(siblings, version, pooled?.subnetpoolId);
  let gateway: string | null;
  if (!('gateway_ip' in attrs)) gateway = usableFirst(c);
  else gateway = attrs.gateway_ip === null ? null : canonicalIp(String(attrs.gateway_ip))!;
  if (gateway) checkGateway(c, gateway);
  const id = randomUUID();
  let pools: Pool[];
  if (attrs.allocation_pools !== undefined) {
    pools = checkPools(c, attrs.allocation_pools as Pool[]).pools;
    checkGatewayVsPools(gateway, pools, id);
  } else pools = defaultPools(c, gateway);
  checkLists(ctx, attrs, c);
  const now = nowStamp();
  const { prefixlen: _p, use_default_subnetpool: _u, ...rest } = attrs;
  const obj: Obj = {
    ...rest, id, cidr: formatCidr(c), ip_version: version, gateway_ip: gateway, allocation_pools: pools, subnetpool_id: pooled?.subnetpoolId ?? null,
    tags: [], created_at: now, updated_at: now, revision_number: 1,
  };
  await insertObj(tx, subnetDef, obj);
  await hooks.syncDhcpPort(tx, network, [...siblings, obj]);
  return obj;
}

/** The first usable address of a CIDR (the default gateway). */
const usableFirst = (c: Cidr): string => formatIp(c.version, usable(c).lo);

export function subnetBehaviour(ctx: NetworkContext, hooks: SubnetHooks): ResourceBehaviour {
  // A subnet is seen with its network only when that network is shared: an external network's
  // subnets stay hidden from other projects (Neutron; tempest checks it).
  const networkVisible = async (obj: Obj, caller: Caller): Promise<boolean> => {
    const net = await getObj(ctx.db, networkDef, String(obj.network_id));
    return !!net && (net.shared === true || net.project_id === caller.projectId);
  };
  const b: ResourceBehaviour = {
    def: subnetDef,
    visibleTo: networkVisible,
    alsoVisible: async (db, _caller, where) => {
      const nets = await findObjs(db, networkDef, { shared: true });
      if (nets.length === 0) return [];
      const wanted = where.network_id as string[] | undefined;
      const ids = nets.map((n) => n.id).filter((id) => !wanted || wanted.includes(id));
      return ids.length ? findObjs(db, subnetDef, { ...where, network_id: ids }) : [];
    },
    create: async (items, caller) => {
      const made = await transact(ctx, async (tx) => {
        await checkQuotaForItems(ctx, tx, items, 'subnet', caller.projectId);
        const out: Obj[] = [];
        for (const attrs of items) out.push(await createOne(ctx, tx, attrs, caller, hooks));
        return out;
      });
      for (const s of made) { ctx.notify('subnet.create.end', { subnet: s }); ctx.changed('network', String(s.network_id)); }
      return made;
    },
    update: async (obj, attrs, caller) => {
      if (!caller.isAdmin && obj.project_id !== caller.projectId) throw forbidden(`(rule:update_subnet) is disallowed by policy`);
      const c = cidrOf(obj);
      const next: Obj = { ...obj, ...attrs };
      if ('gateway_ip' in attrs) {
        next.gateway_ip = attrs.gateway_ip === null ? null : canonicalIp(String(attrs.gateway_ip))!;
        if (next.gateway_ip) checkGateway(c, String(next.gateway_ip));
      }
      if (attrs.allocation_pools !== undefined) next.allocation_pools = checkPools(c, attrs.allocation_pools as Pool[]).pools;
      if ('gateway_ip' in attrs || attrs.allocation_pools !== undefined) {
        checkGatewayVsPools(next.gateway_ip as string | null, next.allocation_pools as Pool[], obj.id);
      }
      checkLists(ctx, attrs, c);
      const saved = await transact(ctx, async (tx) => {
        const s = await saveObj(tx, subnetDef, next);
        const network = await getObj(tx, networkDef, String(obj.network_id));
        if (network) await hooks.syncDhcpPort(tx, network, await findObjs(tx, subnetDef, { network_id: network.id }));
        return s;
      });
      ctx.notify('subnet.update.end', { subnet: saved });
      ctx.changed('network', String(obj.network_id));
      return saved;
    },
    remove: async (obj, caller) => {
      if (!caller.isAdmin && obj.project_id !== caller.projectId) throw forbidden(`(rule:delete_subnet) is disallowed by policy`);
      await transact(ctx, async (tx) => {
        await deleteSubnetIn(tx, obj, hooks);
      });
      ctx.notify('subnet.delete.end', { subnet_id: obj.id });
      ctx.changed('network', String(obj.network_id));
    },
  };
  return b;
}

/** Deletes a subnet unless a port other than DHCP's uses it (409 SubnetInUse). */
export async function deleteSubnetIn(tx: Db, obj: Obj, hooks: SubnetHooks): Promise<void> {
  const users = await tx.selectFrom('net_ip_allocation').innerJoin('net_port', 'net_port.id', 'net_ip_allocation.port_id')
    .select(['net_port.id as id', 'net_port.device_owner as owner']).where('net_ip_allocation.subnet_id', '=', obj.id).execute();
  // Addresses a subnet hands out by itself (SLAAC, DHCPv6-stateless) do not keep it alive: Neutron
  // removes them from their ports. Any other allocation but DHCP's does.
  const auto = obj.ip_version === 6 && (obj.ipv6_address_mode === 'slaac' || obj.ipv6_address_mode === 'dhcpv6-stateless');
  if (!auto && users.some((u) => u.owner !== 'network:dhcp')) {
    throw netFault(409, 'SubnetInUse', `Unable to complete operation on subnet ${obj.id}: One or more ports have an IP allocation from this subnet.`);
  }
  if (auto) await hooks.dropAddressesOf(tx, obj.id, users.map((u) => String(u.id)));
  await tx.deleteFrom('net_ip_allocation').where('subnet_id', '=', obj.id).execute();
  await deleteObj(tx, subnetDef, obj.id);
  const network = await getObj(tx, networkDef, String(obj.network_id));
  if (network) await hooks.syncDhcpPort(tx, network, await findObjs(tx, subnetDef, { network_id: network.id }));
}

