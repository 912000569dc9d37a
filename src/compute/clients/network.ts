/**
 * What compute asks of the network service (Neutron's API, as Nova's neutron client does):
 * networks a project may boot on, ports made and bound for instances, their security groups,
 * and what the metadata documents describe (subnets, floating IPs); and, with a caller's own
 * token, the security groups, floating IPs and networks Nova's network proxy APIs pass through.
 */
import { ServiceApi, ServiceAuth, ServiceCallError } from './service-auth.js';

export interface NetPort {
  readonly id: string;
  readonly network_id: string;
  readonly project_id: string;
  readonly mac_address: string;
  readonly fixed_ips: readonly { readonly subnet_id: string; readonly ip_address: string }[];
  readonly device_id: string;
  readonly device_owner: string;
  readonly status: string;
  readonly 'binding:host_id'?: string;
  readonly security_groups?: readonly string[];
  readonly [k: string]: unknown;
}

export interface NetNetwork {
  readonly id: string;
  readonly name: string;
  readonly project_id: string;
  readonly shared: boolean;
  readonly 'router:external'?: boolean;
  readonly mtu: number;
  readonly status: string;
  readonly subnets: readonly string[];
  readonly [k: string]: unknown;
}

export interface NetSubnet {
  readonly id: string;
  readonly network_id: string;
  readonly cidr: string;
  readonly ip_version: 4 | 6;
  readonly gateway_ip: string | null;
  readonly enable_dhcp: boolean;
  readonly dns_nameservers: readonly string[];
  readonly host_routes: readonly { readonly destination: string; readonly nexthop: string }[];
  readonly ipv6_address_mode?: string | null;
  readonly [k: string]: unknown;
}

export interface NetSecurityGroupRule {
  readonly id: string;
  readonly security_group_id: string;
  readonly direction: 'ingress' | 'egress';
  readonly ethertype: string;
  readonly protocol: string | null;
  readonly port_range_min: number | null;
  readonly port_range_max: number | null;
  readonly remote_ip_prefix: string | null;
  readonly remote_group_id: string | null;
  readonly [k: string]: unknown;
}

export interface NetSecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly project_id: string;
  readonly tenant_id?: string;
  readonly security_group_rules?: readonly NetSecurityGroupRule[];
  readonly [k: string]: unknown;
}

export interface NetFloatingIp {
  readonly id: string;
  readonly floating_ip_address: string;
  readonly floating_network_id: string;
  readonly fixed_ip_address: string | null;
  readonly port_id: string | null;
  readonly project_id: string;
  /** The fip-port-details extension: the associated port as it is now. */
  readonly port_details?: { readonly device_id: string; readonly [k: string]: unknown } | null;
  readonly [k: string]: unknown;
}

type Filter = Record<string, string | readonly string[] | undefined>;

/** A fixed token: the API caller's own, for calls made on its behalf (never renewed). */
class CallerAuth extends ServiceAuth {
  constructor(private readonly fixed: string) { super({ identityUrl: '', username: '', password: '' }); }
  override token(): Promise<string> { return Promise.resolve(this.fixed); }
  override invalidate(): void { /* the caller's token is not ours to renew */ }
}

const q = (o: Record<string, string | readonly string[] | undefined>): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) p.append(k, String(x));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
};

/** True when the error is a 404 from the network service. */
export const isNotFound = (e: unknown): boolean => e instanceof ServiceCallError && e.status === 404;

export class NetworkClient {
  constructor(readonly api: ServiceApi) {}

  async network(id: string): Promise<NetNetwork | null> {
    try { return (await this.api.call('GET', `/v2.0/networks/${encodeURIComponent(id)}`)).json.network as NetNetwork; } catch (e) { if (isNotFound(e)) return null; throw e; }
  }

  /** Networks a project may boot on: its own (not external) and shared ones. */
  async bootableNetworks(projectId: string): Promise<NetNetwork[]> {
    const own = (await this.api.call('GET', `/v2.0/networks${q({ project_id: projectId })}`)).json.networks as NetNetwork[];
    const shared = (await this.api.call('GET', `/v2.0/networks${q({ shared: 'true' })}`)).json.networks as NetNetwork[];
    const all = new Map([...own.filter((n) => !n['router:external']), ...shared].map((n) => [n.id, n]));
    return [...all.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  async port(id: string): Promise<NetPort | null> {
    try { return (await this.api.call('GET', `/v2.0/ports/${encodeURIComponent(id)}`)).json.port as NetPort; } catch (e) { if (isNotFound(e)) return null; throw e; }
  }

  async ports(filter: Record<string, string | readonly string[] | undefined>): Promise<NetPort[]> {
    return (await this.api.call('GET', `/v2.0/ports${q(filter)}`)).json.ports as NetPort[];
  }

  async createPort(port: Record<string, unknown>): Promise<NetPort> {
    return (await this.api.call('POST', '/v2.0/ports', { body: { port }, what: 'create port' })).json.port as NetPort;
  }

  async updatePort(id: string, port: Record<string, unknown>): Promise<NetPort> {
    return (await this.api.call('PUT', `/v2.0/ports/${encodeURIComponent(id)}`, { body: { port }, what: `update port ${id}` })).json.port as NetPort;
  }

  /** Deletes a port; false when it was already gone. */
  async deletePort(id: string): Promise<boolean> {
    try { await this.api.call('DELETE', `/v2.0/ports/${encodeURIComponent(id)}`); return true; } catch (e) { if (isNotFound(e)) return false; throw e; }
  }

  async subnets(ids: readonly string[]): Promise<NetSubnet[]> {
    if (ids.length === 0) return [];
    return (await this.api.call('GET', `/v2.0/subnets${q({ id: ids })}`)).json.subnets as NetSubnet[];
  }

  /** Security group ids of a project by name or id (Nova accepts either). */
  async securityGroupIds(projectId: string, namesOrIds: readonly string[]): Promise<{ ids: string[]; missing: string[] }> {
    const groups = (await this.api.call('GET', `/v2.0/security-groups${q({ project_id: projectId, fields: ['id', 'name'] })}`)).json.security_groups as { id: string; name: string }[];
    const ids: string[] = [];
    const missing: string[] = [];
    for (const want of namesOrIds) {
      const byId = groups.find((g) => g.id === want);
      const byName = groups.filter((g) => g.name === want);
      if (byId) ids.push(byId.id);
      else if (byName.length === 1) ids.push(byName[0]!.id);
      else missing.push(want);
    }
    return { ids: [...new Set(ids)], missing };
  }

  async securityGroupNames(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const groups = (await this.api.call('GET', `/v2.0/security-groups${q({ id: ids, fields: ['id', 'name'] })}`)).json.security_groups as { id: string; name: string }[];
    return groups.map((g) => g.name);
  }

  /**
   * The same network service, called with the API caller's token (Nova's neutron client of the
   * request context, which its network proxy APIs use): the network service's own policy and
   * project scoping apply, and what is created belongs to the caller's project.
   */
  asCaller(token: string): NetworkClient {
    return new NetworkClient(new ServiceApi(this.api.service, this.api.baseUrl, new CallerAuth(token), this.api.headers));
  }

  async #getOrNull<T>(path: string, key: string): Promise<T | null> {
    try { return (await this.api.call('GET', path)).json[key] as T; } catch (e) { if (isNotFound(e)) return null; throw e; }
  }

  async networks(filter: Filter = {}): Promise<NetNetwork[]> {
    return (await this.api.call('GET', `/v2.0/networks${q(filter)}`)).json.networks as NetNetwork[];
  }

  async securityGroups(filter: Filter = {}): Promise<NetSecurityGroup[]> {
    return (await this.api.call('GET', `/v2.0/security-groups${q(filter)}`)).json.security_groups as NetSecurityGroup[];
  }

  securityGroup(id: string): Promise<NetSecurityGroup | null> {
    return this.#getOrNull(`/v2.0/security-groups/${encodeURIComponent(id)}`, 'security_group');
  }

  async createSecurityGroup(group: Record<string, unknown>): Promise<NetSecurityGroup> {
    return (await this.api.call('POST', '/v2.0/security-groups', { body: { security_group: group }, what: 'create security group' })).json.security_group as NetSecurityGroup;
  }

  async updateSecurityGroup(id: string, group: Record<string, unknown>): Promise<NetSecurityGroup> {
    return (await this.api.call('PUT', `/v2.0/security-groups/${encodeURIComponent(id)}`, { body: { security_group: group }, what: `update security group ${id}` })).json.security_group as NetSecurityGroup;
  }

  async deleteSecurityGroup(id: string): Promise<void> {
    await this.api.call('DELETE', `/v2.0/security-groups/${encodeURIComponent(id)}`, { what: `delete security group ${id}` });
  }

  securityGroupRule(id: string): Promise<NetSecurityGroupRule | null> {
    return this.#getOrNull(`/v2.0/security-group-rules/${encodeURIComponent(id)}`, 'security_group_rule');
  }

  async createSecurityGroupRule(rule: Record<string, unknown>): Promise<NetSecurityGroupRule> {
    return (await this.api.call('POST', '/v2.0/security-group-rules', { body: { security_group_rule: rule }, what: 'create security group rule' })).json.security_group_rule as NetSecurityGroupRule;
  }

  async deleteSecurityGroupRule(id: string): Promise<void> {
    await this.api.call('DELETE', `/v2.0/security-group-rules/${encodeURIComponent(id)}`, { what: `delete security group rule ${id}` });
  }

  floatingIp(id: string): Promise<NetFloatingIp | null> {
    return this.#getOrNull(`/v2.0/floatingips/${encodeURIComponent(id)}`, 'floatingip');
  }

  async floatingIpList(filter: Filter = {}): Promise<NetFloatingIp[]> {
    return (await this.api.call('GET', `/v2.0/floatingips${q(filter)}`)).json.floatingips as NetFloatingIp[];
  }

  async createFloatingIp(fip: Record<string, unknown>): Promise<NetFloatingIp> {
    return (await this.api.call('POST', '/v2.0/floatingips', { body: { floatingip: fip }, what: 'create floating IP' })).json.floatingip as NetFloatingIp;
  }

  async updateFloatingIp(id: string, fip: Record<string, unknown>): Promise<NetFloatingIp> {
    return (await this.api.call('PUT', `/v2.0/floatingips/${encodeURIComponent(id)}`, { body: { floatingip: fip }, what: `update floating IP ${id}` })).json.floatingip as NetFloatingIp;
  }

  async deleteFloatingIp(id: string): Promise<void> {
    await this.api.call('DELETE', `/v2.0/floatingips/${encodeURIComponent(id)}`, { what: `delete floating IP ${id}` });
  }

  async floatingIps(portId: string): Promise<{ floating_ip_address: string; fixed_ip_address: string | null }[]> {
    return (await this.api.call('GET', `/v2.0/floatingips${q({ port_id: portId })}`)).json.floatingips;
  }
}
