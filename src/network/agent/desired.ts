/**
 * The desired state of one host's data plane, as the server computes it from the database. The
 * agent converges the host onto it; nothing here says how (that is the agent's business).
 * All-in-one: a direct call; multi-node: the same value over a bus `call`.
 */

/** A network present on this host (because a port, DHCP or a router of it is here). */
export interface DesiredNetwork {
  readonly id: string;
  /** `flat` (bridge only) or `vxlan` (bridge + VXLAN device with `segmentationId` as VNI). */
  readonly type: 'flat' | 'vxlan';
  readonly segmentationId: number | null;
  /** For `flat` networks: the physical network name (mapped to a host interface only when an operator configured one). */
  readonly physicalNetwork: string | null;
  readonly mtu: number;
  readonly adminStateUp: boolean;
}

/** One security group rule, as Neutron stores it. */
export interface DesiredRule {
  readonly id: string;
  readonly direction: 'ingress' | 'egress';
  readonly ethertype: 'IPv4' | 'IPv6';
  /** Protocol as the rule stores it — a name ('tcp', 'ipv6-icmp', …) or a number as a string — or null for any. */
  readonly protocol: string | null;
  readonly portRangeMin: number | null;
  readonly portRangeMax: number | null;
  /** CIDR, or null; when `remoteGroupId` is set the agent matches the group's member addresses. */
  readonly remoteIpPrefix: string | null;
  readonly remoteGroupId: string | null;
}

/** A port the agent must plug on this host (an instance TAP). */
export interface DesiredPort {
  readonly id: string;
  readonly networkId: string;
  readonly macAddress: string;
  readonly fixedIps: readonly { readonly subnetId: string; readonly ipAddress: string }[];
  readonly allowedAddressPairs: readonly { readonly ipAddress: string; readonly macAddress: string }[];
  readonly adminStateUp: boolean;
  /** false: no filtering and no anti-spoofing for this port (Neutron `port_security_enabled`). */
  readonly portSecurity: boolean;
  readonly securityGroupIds: readonly string[];
  readonly deviceOwner: string;
}

export interface DesiredSubnet {
  readonly id: string;
  readonly networkId: string;
  readonly ipVersion: 4 | 6;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly enableDhcp: boolean;
  readonly dnsNameservers: readonly string[];
  readonly hostRoutes: readonly { readonly destination: string; readonly nexthop: string }[];
}

/** DHCP for one network on this host: dnsmasq in its namespace. */
export interface DesiredDhcp {
  readonly networkId: string;
  /** The DHCP port (device_owner network:dhcp) whose address dnsmasq serves from. */
  readonly port: DesiredPort;
  readonly subnets: readonly DesiredSubnet[];
  /** Static entries: every port of the network with an address on a DHCP-enabled subnet. */
  readonly hosts: readonly { readonly macAddress: string; readonly ipAddress: string; readonly hostname: string }[];
  readonly dnsDomain: string;
}

export interface DesiredFloatingIp {
  readonly id: string;
  readonly floatingIp: string;
  readonly fixedIp: string;
}

/** A router on this host: a namespace with interfaces, SNAT, floating IPs and routes. */
export interface DesiredRouter {
  readonly id: string;
  readonly adminStateUp: boolean;
  /** Tenant-side interfaces (`qr-…`), each a port with its address(es) on a subnet. */
  readonly interfaces: readonly { readonly port: DesiredPort; readonly cidrs: readonly string[] }[];
  /** Gateway (`qg-…`) on the external network, or null. */
  readonly gateway: null | {
    readonly port: DesiredPort;
    readonly cidrs: readonly string[];
    readonly gatewayIp: string | null;
    readonly enableSnat: boolean;
  };
  readonly floatingIps: readonly DesiredFloatingIp[];
  readonly routes: readonly { readonly destination: string; readonly nexthop: string }[];
}

/** Everything one host should have. */
export interface DesiredHostState {
  readonly host: string;
  readonly networks: readonly DesiredNetwork[];
  readonly ports: readonly DesiredPort[];
  /** Rules of every security group a port here uses. */
  readonly securityGroups: Readonly<Record<string, readonly DesiredRule[]>>;
  /** Addresses of every member port of each security group used as a remote group here. */
  readonly groupMembers: Readonly<Record<string, readonly string[]>>;
  readonly dhcp: readonly DesiredDhcp[];
  readonly routers: readonly DesiredRouter[];
  /** Underlay addresses of the other hosts carrying each VXLAN network (by network id). */
  readonly vtepPeers: Readonly<Record<string, readonly string[]>>;
}
