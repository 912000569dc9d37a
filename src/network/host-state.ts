/**
 * The server side of the agent contract: the desired data plane of one host, computed from the
 * database (see agent/desired.ts). Instance ports bound to the host, DHCP for the networks its
 * DHCP agent serves, routers when it is the L3 host, every network those touch, the rules of the
 * security groups in use and the VTEPs of the other hosts sharing each VXLAN network.
 */
import type { NetworkContext } from './context.js';
import type { DesiredDhcp, DesiredHostState, DesiredNetwork, DesiredPort, DesiredRouter, DesiredRule, DesiredSubnet } from './agent/desired.js';
import { agentDef, isAlive, AGENT_TYPES, L3_AGENT } from './agent-store.js';
import { dhcpNetworksOfHost } from './dhcp-scheduler.js';
import { parseCidr } from './ipam/addr.js';
import type { FixedIp } from './ipam/allocate.js';
import { networkDef } from './networks.js';
import { portDef } from './ports.js';
import { routerDef } from './router-def.js';
import { findObjs, type Db } from './resource/store.js';
import type { Obj } from './resource/types.js';
import { securityGroupRuleDef } from './security-groups.js';
import { subnetDef } from './subnets.js';


/** A port as the agent needs it. */
export function desiredPort(p: Obj): DesiredPort {
  const mac = String(p.mac_address);
  return {
    id: p.id, networkId: String(p.network_id), macAddress: mac,
    fixedIps: ((p.fixed_ips as FixedIp[]) ?? []).map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
    allowedAddressPairs: ((p.allowed_address_pairs as { ip_address: string; mac_address?: string }[]) ?? []).map((a) => ({ ipAddress: a.ip_address, macAddress: a.mac_address ?? mac })),
    adminStateUp: p.admin_state_up !== false, portSecurity: p.port_security_enabled !== false,
    securityGroupIds: (p.security_groups as string[]) ?? [], deviceOwner: String(p.device_owner ?? ''),
  };
}

const desiredNetwork = (n: Obj): DesiredNetwork => ({
  id: n.id, type: n['provider:network_type'] === 'flat' ? 'flat' : 'vxlan',
  segmentationId: (n['provider:segmentation_id'] as number | null) ?? null,
  physicalNetwork: (n['provider:physical_network'] as string | null) ?? null,
  mtu: Number(n.mtu), adminStateUp: n.admin_state_up !== false,
});

const desiredSubnet = (s: Obj): DesiredSubnet => ({
  id: s.id, networkId: String(s.network_id), ipVersion: s.ip_version === 6 ? 6 : 4, cidr: String(s.cidr),
  gatewayIp: (s.gateway_ip as string | null) ?? null, enableDhcp: s.enable_dhcp === true,
  dnsNameservers: (s.dns_nameservers as string[]) ?? [], hostRoutes: (s.host_routes as { destination: string; nexthop: string }[]) ?? [],
});

/** `ip/prefix` of each fixed IP of a port, using its subnet's prefix. */
function cidrsOf(port: Obj, subnets: ReadonlyMap<string, Obj>): string[] {
  return ((port.fixed_ips as FixedIp[]) ?? []).flatMap((f) => {
    const s = subnets.get(f.subnet_id);
    const c = s ? parseCidr(String(s.cidr)) : undefined;
    return c ? [`${f.ip_address}/${c.prefix}`] : [];
  });
}

// Protocols go as stored (a name or a number): the firewall compiler resolves them.
const ruleOf = (r: Obj): DesiredRule => ({
  id: r.id, direction: r.direction === 'egress' ? 'egress' : 'ingress', ethertype: r.ethertype === 'IPv6' ? 'IPv6' : 'IPv4',
  protocol: r.protocol === null || r.protocol === undefined ? null : String(r.protocol),
  portRangeMin: (r.port_range_min as number | null) ?? null, portRangeMax: (r.port_range_max as number | null) ?? null,
  remoteIpPrefix: (r.remote_ip_prefix as string | null) ?? null, remoteGroupId: (r.remote_group_id as string | null) ?? null,
});

/** The host running routers: the alive, enabled L3 agent first by host name (or this host when none reported yet). */
async function l3Host(ctx: NetworkContext, db: Db, fallback: string): Promise<string> {
  const agents = (await findObjs(db, agentDef, { agent_type: L3_AGENT })).filter((a) => a.admin_state_up !== false && isAlive(ctx, a));
  return agents.map((a) => String(a.host)).sort()[0] ?? fallback;
}

/** Computes what `host` should have. */
export async function desiredHostState(ctx: NetworkContext, host: string): Promise<DesiredHostState> {
  const db = ctx.db;
  const instancePorts = (await findObjs(db, portDef, { 'binding:host_id': host })).filter((p) => !String(p.device_owner ?? '').startsWith('network:'));
  const dhcpNetworkIds = await dhcpNetworksOfHost(db, host);
  const routersHere = (await l3Host(ctx, db, host)) === host ? await findObjs(db, routerDef, {}) : [];
  const routerIds = routersHere.map((r) => r.id);
  const routerPorts = routerIds.length ? await findObjs(db, portDef, { device_id: routerIds }) : [];
  const networkIds = new Set<string>([...instancePorts.map((p) => String(p.network_id)), ...dhcpNetworkIds, ...routerPorts.map((p) => String(p.network_id))]);
  const networks = networkIds.size ? await findObjs(db, networkDef, { id: [...networkIds] }) : [];
  const subnetList = networkIds.size ? await findObjs(db, subnetDef, { network_id: [...networkIds] }) : [];
  const subnets = new Map(subnetList.map((s) => [s.id, s]));

  // Security groups of the instance ports, and the members of groups used as remote groups.
  const groupIds = [...new Set(instancePorts.filter((p) => p.port_security_enabled !== false).flatMap((p) => (p.security_groups as string[]) ?? []))];
  const rules = groupIds.length ? await findObjs(db, securityGroupRuleDef, { security_group_id: groupIds }) : [];
  const securityGroups: Record<string, DesiredRule[]> = Object.fromEntries(groupIds.map((g) => [g, []]));
  for (const r of rules) securityGroups[String(r.security_group_id)]!.push(ruleOf(r));
  const remoteGroups = [...new Set(rules.map((r) => r.remote_group_id).filter((g): g is string => typeof g === 'string'))];
  const groupMembers: Record<string, string[]> = {};
  for (const g of remoteGroups) {
    const members = await db.selectFrom('net_port').select('body').where('body', 'like', `%${g}%`).execute();
    groupMembers[g] = members.map((m) => JSON.parse(String(m.body)) as Obj)
      .filter((p) => ((p.security_groups as string[]) ?? []).includes(g))
      .flatMap((p) => [...((p.fixed_ips as FixedIp[]) ?? []).map((f) => f.ip_address), ...((p.allowed_address_pairs as { ip_address: string }[]) ?? []).map((a) => a.ip_address)]);
  }

  const dhcp: DesiredDhcp[] = [];
  for (const networkId of dhcpNetworkIds) {
    const ports = await findObjs(db, portDef, { network_id: networkId });
    const dhcpPort = ports.find((p) => p.device_owner === 'network:dhcp');
    const served = subnetList.filter((s) => s.network_id === networkId && s.enable_dhcp === true);
    if (!dhcpPort || served.length === 0) continue;
    const servedIds = new Set(served.map((s) => s.id));
    dhcp.push({
      networkId, port: desiredPort(dhcpPort), subnets: served.map(desiredSubnet), dnsDomain: ctx.config.network.dns_domain,
      hosts: ports.filter((p) => p.id !== dhcpPort.id).flatMap((p) => ((p.dns_assignment as { hostname: string; ip_address: string }[]) ?? [])
        .filter((a) => ((p.fixed_ips as FixedIp[]) ?? []).some((f) => f.ip_address === a.ip_address && servedIds.has(f.subnet_id)))
        .map((a) => ({ macAddress: String(p.mac_address), ipAddress: a.ip_address, hostname: a.hostname }))),
    });
  }

  const fips = routerIds.length ? (await db.selectFrom('net_floating_ip').select('body').execute()).map((r) => JSON.parse(String(r.body)) as Obj) : [];
  const routers: DesiredRouter[] = routersHere.map((r) => {
    const mine = routerPorts.filter((p) => p.device_id === r.id);
    const gw = mine.find((p) => p.device_owner === 'network:router_gateway');
    const gwSubnet = gw ? subnets.get(((gw.fixed_ips as FixedIp[])[0] ?? { subnet_id: '' }).subnet_id) : undefined;
    const info = r.external_gateway_info as { enable_snat?: boolean } | null;
    return {
      id: r.id, adminStateUp: r.admin_state_up !== false,
      interfaces: mine.filter((p) => p.device_owner === 'network:router_interface').map((p) => ({ port: desiredPort(p), cidrs: cidrsOf(p, subnets) })),
      gateway: gw ? { port: desiredPort(gw), cidrs: cidrsOf(gw, subnets), gatewayIp: (gwSubnet?.gateway_ip as string | null) ?? null, enableSnat: info?.enable_snat !== false } : null,
      floatingIps: fips.filter((f) => f.router_id === r.id && f.fixed_ip_address).map((f) => ({ id: f.id, floatingIp: String(f.floating_ip_address), fixedIp: String(f.fixed_ip_address) })),
      routes: (r.routes as { destination: string; nexthop: string }[]) ?? [],
    };
  });

  // Other hosts' VTEPs: every other L2 agent's tunnel address, for each VXLAN network here (a host
  // without a port on a network floods to it too; pruning by host is left for later).
  const vtepPeers: Record<string, string[]> = {};
  const peers = (await findObjs(db, agentDef, { agent_type: AGENT_TYPES.linuxbridge.agent_type })).filter((a) => a.host !== host)
    .map((a) => String((a.configurations as Record<string, unknown>)?.tunneling_ip ?? '')).filter(Boolean).sort();
  if (peers.length) {
    for (const n of networks.filter((x) => x['provider:network_type'] === 'vxlan')) vtepPeers[n.id] = peers;
  }

  return { host, networks: networks.map(desiredNetwork), ports: instancePorts.map(desiredPort), securityGroups, groupMembers, dhcp, routers, vtepPeers };
}
