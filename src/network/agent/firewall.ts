/**
 * Security groups and anti-spoofing for the instance ports of one host, compiled from its desired
 * state into one `nft -f` script (pure: no host access). Applying the script replaces both
 * firewall tables in a single transaction, so packets never meet a half-applied firewall, and
 * conntrack entries (which live outside tables) survive: established flows keep flowing.
 *
 * Why two tables (measured on this kernel, see the agent's notes):
 * - Instance TAPs are ports of a Linux bridge. The bridge family sees the port (`iifname`/`oifname`
 *   are TAPs) but has no conntrack here (no nf_conntrack_bridge: `ct` is refused in bridge
 *   tables). The inet family gets conntrack for bridged packets through br_netfilter
 *   (`bridge-nf-call-ip{,6}tables`, per namespace), but there `iifname`/`oifname` are the bridge,
 *   and nft has no "physdev" match.
 * - So `table bridge nephos-fw` does the stateless part per port — MAC/IP/ARP anti-spoofing, no
 *   DHCP/RA server replies from instances, only IPv4/IPv6/ARP frames — and tags each packet with
 *   the port's mark (`meta mark`): the sending port's in prerouting, which runs before br_netfilter
 *   (priority filter = -200 < 0), and the receiving port's in forward, which runs before
 *   br_netfilter's forward hook. `table inet nephos-fw` then does the stateful part keyed by
 *   those marks: egress rules in prerouting (after conntrack), ingress rules in forward.
 * - Conntrack zones per network (`ct zone set` by bridge name), so overlapping tenant subnets on
 *   one host never share connection entries.
 * - Fail closed: if br_netfilter is off the inet chains never see bridged packets, so the bridge
 *   table drops IP to and from filtered ports that the inet table did not mark as seen.
 *
 * Scale: the per-port parts are keyed by interface name or mark through sets and verdict maps
 * (one element per port); chains exist per security group and per distinct list of groups
 * ("profile"), never per port.
 */
import type { NftTable } from '../host/nft.js';
import { bridgeName, tapName } from '../host/names.js';
import type { DesiredHostState, DesiredPort, DesiredRule } from './desired.js';
import { cidrOf, linkLocalOf, nftCidr, normalMac, outermost } from './firewall-addresses.js';
import type { Cidr } from '../ipam/addr.js';
import { remoteGroupSet, ruleStatement } from './firewall-rules.js';

/** Name of both firewall tables (one `bridge`, one `inet`) in a host namespace. */
export const FIREWALL_TABLE = 'nephos-fw';

/** The tables the firewall owns, for listing and cleanup. */
export const FIREWALL_TABLES: readonly NftTable[] = [
  { family: 'bridge', name: FIREWALL_TABLE },
  { family: 'inet', name: FIREWALL_TABLE },
];

/**
 * Sysctls the host namespace needs for the stateful part: bridged IPv4/IPv6 pass the inet hooks
 * (and conntrack). New namespaces default to 1 on this kernel; set them explicitly anyway.
 */
export const FIREWALL_SYSCTLS: Readonly<Record<string, string>> = {
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
};

/** Whether the firewall filters `port`: port security on and not a network-owned port (router, DHCP: Neutron trusts those). */
export function isFilteredPort(port: DesiredPort): boolean {
  return port.portSecurity && !port.deviceOwner.startsWith('network:');
}

const ID_RE = /^[A-Za-z0-9-]{1,200}$/;

function checkId(kind: string, id: string): string {
  // Ids become parts of chain and set names inside nft's language.
  if (!ID_RE.test(id)) throw new Error(`invalid ${kind} id for the firewall: ${JSON.stringify(id)}`);
  return id;
}

/** 32-bit FNV-1a: a stable number from an id, so marks and zones do not move when other ports come and go. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The conntrack zone of a network's bridge: 1–65535 from its id. Stable across applies (a moved
 * zone would orphan established flows); two networks that collide merely share a zone.
 */
export function conntrackZone(networkId: string): number {
  return 1 + (fnv1a(networkId) % 65535);
}

/**
 * Packet marks of the filtered ports: even, non-zero, from the port id, probing past collisions
 * in id order. Bit 0 is the "seen by the inet table" flag.
 */
function portMarks(ids: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const id of [...ids].sort()) {
    let m = (fnv1a(id) & 0xfffffffe) >>> 0;
    while (m === 0 || used.has(m)) m = (m + 2) >>> 0;
    used.add(m);
    out.set(id, m);
  }
  return out;
}

interface Source { readonly mac: string; readonly cidr: Cidr }

/** A filtered port as the compiler needs it. */
interface Filtered {
  readonly port: DesiredPort;
  readonly tap: string;
  readonly mark: number;
  readonly macs: readonly string[];
  readonly sources: readonly Source[];
}

/**
 * What a port may send from (Neutron's anti-spoofing): its MAC with each fixed IP, each allowed
 * address pair (CIDR allowed; MAC defaults to the port's), the link-local address of each MAC that
 * has an IPv6 address, and any address from its own MAC when it has no fixed IP at all. Invalid
 * entries are dropped, which only narrows what the port may send.
 */
function sourcesOf(port: DesiredPort): { macs: string[]; sources: Source[] } {
  const portMac = normalMac(port.macAddress);
  const sources: Source[] = [];
  const add = (mac: string | undefined, ip: string): void => {
    const cidr = cidrOf(ip);
    if (mac && cidr) sources.push({ mac, cidr });
  };
  for (const p of port.allowedAddressPairs) add(p.macAddress ? normalMac(p.macAddress) : portMac, p.ipAddress);
  for (const f of port.fixedIps) add(portMac, f.ipAddress);
  if (port.fixedIps.length === 0) {
    add(portMac, '0.0.0.0/0');
    add(portMac, '::/0');
  }
  const macs = [...new Set([...(portMac ? [portMac] : []), ...sources.map((s) => s.mac)])].sort();
  for (const mac of macs) {
    if (sources.some((s) => s.mac === mac && s.cidr.version === 6)) sources.push({ mac, cidr: linkLocalOf(mac) });
  }
  return { macs, sources };
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** A set or map declaration; `elements` omitted when empty. */
function declare(kind: 'set' | 'map', name: string, head: readonly string[], elements: readonly string[]): string[] {
  const els = elements.length ? ['    elements = {', elements.map((e) => `      ${e}`).join(',\n'), '    }'] : [];
  return [`  ${kind} ${name} {`, ...head.map((h) => `    ${h}`), ...els, '  }'];
}

function chain(name: string, lines: readonly string[]): string[] {
  return [`  chain ${name} {`, ...lines.map((l) => `    ${l}`), '  }'];
}

/** Replace idiom: create-if-absent, delete, define — one transaction with the rest of the script. */
function table(family: 'bridge' | 'inet', body: readonly string[]): string[] {
  const ref = `${family} ${FIREWALL_TABLE}`;
  return [`table ${ref} {}`, `delete table ${ref}`, `table ${ref} {`, ...body, '}'];
}

function bridgeTable(ports: readonly Filtered[]): string[] {
  const elem4: string[] = [];
  const elem6: string[] = [];
  for (const f of ports) {
    for (const mac of f.macs) {
      const mine = f.sources.filter((s) => s.mac === mac).map((s) => s.cidr);
      for (const c of outermost(mine, 4)) elem4.push(`"${f.tap}" . ${mac} . ${nftCidr(c)}`);
      for (const c of outermost(mine, 6)) elem6.push(`"${f.tap}" . ${mac} . ${nftCidr(c)}`);
    }
  }
  return [
    ...declare('set', 'ports', ['type ifname'], ports.map((f) => `"${f.tap}"`)),
    ...declare('map', 'port-mark', ['type ifname : mark'], ports.map((f) => `"${f.tap}" : ${hex(f.mark)}`)),
    ...declare('set', 'port-mac', ['type ifname . ether_addr'], ports.flatMap((f) => f.macs.map((m) => `"${f.tap}" . ${m}`))),
    ...declare('set', 'port-ip4', ['type ifname . ether_addr . ipv4_addr', 'flags interval'], elem4),
    ...declare('set', 'port-ip6', ['type ifname . ether_addr . ipv6_addr', 'flags interval'], elem6),
    // Frames from instances. Priority filter (-200) runs before br_netfilter (0), hence before conntrack.
    ...chain('prerouting', [
      'type filter hook prerouting priority filter; policy accept;',
      'meta mark set 0x00000000',
      'meta mark set iifname map @port-mark',
      'meta mark 0x00000000 accept',
      'iifname . ether saddr != @port-mac drop',
      'ether type vmap { ip : jump from-port-ip4, ip6 : jump from-port-ip6, arp : jump from-port-arp }',
      'drop',
    ]),
    ...chain('from-port-ip4', [
      'ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept',
      'iifname . ether saddr . ip saddr != @port-ip4 drop',
      'udp sport 67 udp dport 68 drop',
      'accept',
    ]),
    ...chain('from-port-ip6', [
      // Duplicate address detection and MLD before the port has an address.
      'ip6 saddr :: ip6 daddr ff02::/16 icmpv6 type { mld-listener-report, nd-neighbor-solicit, mld2-listener-report } accept',
      'iifname . ether saddr . ip6 saddr != @port-ip6 drop',
      'icmpv6 type nd-router-advert drop',
      'udp sport 547 udp dport 546 drop',
      'accept',
    ]),
    ...chain('from-port-arp', [
      'arp htype 1 arp ptype ip arp hlen 6 arp plen 4 iifname . arp saddr ether . arp saddr ip @port-ip4 accept',
      // ARP probes (RFC 5227) carry sender address 0.0.0.0 and poison no cache.
      'arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ip 0.0.0.0 iifname . arp saddr ether @port-mac accept',
      'drop',
    ]),
    // Frames to instances (per output port, floods included); runs before br_netfilter's forward hook.
    ...chain('forward', [
      'type filter hook forward priority filter; policy accept;',
      // Fail closed when br_netfilter did not hand the packet to the inet table (bit 0 unset).
      'meta mark != 0x00000000 meta mark & 0x00000001 == 0x00000000 ether type { ip, ip6 } drop',
      'oifname @ports meta mark & 0x00000001 == 0x00000000 ether type { ip, ip6 } drop',
      'meta mark set 0x00000000',
      'meta mark set oifname map @port-mark',
      'meta mark 0x00000000 accept',
      'ether type != { ip, ip6, arp } drop',
    ]),
  ];
}

const INGRESS_ICMPV6 = '{ mld-listener-query, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert }';

/** The sorted, de-duplicated group ids of a port: ports with the same list share their chains. */
const profileOf = (f: Filtered): string => [...new Set(f.port.securityGroupIds)].sort().join(',');

/** The two chains of a group profile `n` (ports with these groups). */
function profileChains(n: number, profile: string): string[] {
  const groups = profile ? profile.split(',') : [];
  return [
    `  # profile ${n}: ${groups.length ? groups.join(' ') : 'no security group'}`,
    // Egress (from the instance): anti-spoofing already passed in the bridge table.
    ...chain(`out-${n}`, [
      'ct state established,related accept',
      'ct state invalid drop',
      'meta nfproto ipv4 udp sport 68 udp dport 67 accept',
      'meta nfproto ipv6 udp sport 546 udp dport 547 accept',
      'meta l4proto ipv6-icmp accept',
      ...groups.map((g) => `jump sg-out-${g}`),
      'drop',
    ]),
    // Ingress (to the instance): default drop.
    ...chain(`in-${n}`, [
      'ct state established,related accept',
      'ct state invalid drop',
      'meta nfproto ipv4 udp sport 67 udp dport 68 accept',
      'meta nfproto ipv6 udp sport 547 udp dport 546 accept',
      `icmpv6 type ${INGRESS_ICMPV6} accept`,
      ...groups.map((g) => `jump sg-in-${g}`),
      'drop',
    ]),
  ];
}

function groupChains(groupId: string, rules: readonly DesiredRule[]): string[] {
  const side = (dir: DesiredRule['direction']): string[] =>
    [...new Set(rules.filter((r) => r.direction === dir).map(ruleStatement).filter((s): s is string => s !== null))];
  return [...chain(`sg-in-${groupId}`, side('ingress')), ...chain(`sg-out-${groupId}`, side('egress'))];
}

function inetTable(state: DesiredHostState, ports: readonly Filtered[]): string[] {
  const groups = [...new Set(ports.flatMap((f) => f.port.securityGroupIds.map((g) => checkId('security group', g))))].sort();
  const rulesOf = (g: string): readonly DesiredRule[] => state.securityGroups[g] ?? [];
  const remote = [...new Set(groups.flatMap((g) => rulesOf(g).flatMap((r) => (r.remoteGroupId ? [r.remoteGroupId] : []))))]
    .filter((g) => ID_RE.test(g)).sort();
  const profiles = [...new Set(ports.map(profileOf))].sort();
  const profileNo = new Map(profiles.map((pr, i) => [pr, i]));
  const chainOf = (f: Filtered): number => profileNo.get(profileOf(f))!;
  const networks = [...new Set([...state.networks.map((n) => n.id), ...ports.map((f) => f.port.networkId)])].sort();
  const memberSets = remote.flatMap((g) => {
    const members = (state.groupMembers[g] ?? []).map(cidrOf).filter((c): c is Cidr => c !== undefined);
    return [
      ...declare('set', remoteGroupSet(g, 4), ['type ipv4_addr', 'flags interval'], outermost(members, 4).map(nftCidr)),
      ...declare('set', remoteGroupSet(g, 6), ['type ipv6_addr', 'flags interval'], outermost(members, 6).map(nftCidr)),
    ];
  });
  return [
    ...declare('map', 'zone', ['typeof iifname : ct zone'], networks.map((n) => `"${bridgeName(n)}" : ${conntrackZone(n)}`)),
    // Keys carry bit 0: the prerouting chain sets it before the lookup.
    ...declare('map', 'egress', ['type mark : verdict'], ports.map((f) => `${hex(f.mark | 1)} : jump out-${chainOf(f)}`)),
    ...declare('map', 'ingress', ['type mark : verdict'], ports.map((f) => `${hex(f.mark)} : jump in-${chainOf(f)}`)),
    ...memberSets,
    // With br_netfilter the inet hooks see a bridged packet's bridge as iif: one zone per network.
    ...chain('conntrack-zone', [
      'type filter hook prerouting priority raw; policy accept;',
      'ct zone set iifname map @zone',
    ]),
    ...chain('prerouting', [
      'type filter hook prerouting priority filter; policy accept;',
      'meta mark set meta mark | 0x00000001',
      'meta mark vmap @egress',
    ]),
    ...chain('forward', [
      'type filter hook forward priority filter; policy accept;',
      'meta mark vmap @ingress',
    ]),
    ...profiles.flatMap((pr, i) => profileChains(i, pr)),
    ...groups.flatMap((g) => groupChains(g, rulesOf(g))),
  ];
}

/**
 * The `nft -f` script that makes a host namespace's firewall match `state`: both tables replaced
 * in one transaction. Deterministic (sorted), so an agent can skip applying an unchanged script.
 */
export function compileFirewall(state: DesiredHostState): string {
  const candidates = state.ports.filter(isFilteredPort).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const marks = portMarks(candidates.map((p) => checkId('port', p.id)));
  const ports: Filtered[] = candidates.map((port) => ({
    port, tap: tapName(port.id), mark: marks.get(port.id)!, ...sourcesOf(port),
  }));
  return [
    `# security groups of host ${state.host.replace(/[^A-Za-z0-9._-]/g, '?')}: ${ports.length} filtered port(s)`,
    ...table('bridge', bridgeTable(ports)),
    ...table('inet', inetTable(state, ports)),
    '',
  ].join('\n');
}

/** The `nft -f` script that removes the firewall (both tables; absent ones are no error). */
export function firewallRemovalScript(): string {
  return FIREWALL_TABLES.map((t) => `table ${t.family} ${t.name} {}\ndelete table ${t.family} ${t.name}\n`).join('');
}

/** What a port's firewall lets through, per direction, as comparable strings ('*': everything). */
export interface PortPolicy {
  readonly zone: number;
  readonly addresses: readonly string[];
  readonly ingress: ReadonlySet<string>;
  readonly egress: ReadonlySet<string>;
}

/**
 * Each instance port's policy on this host: its groups' rule statements, a remote-group rule
 * together with that group's current members. Comparing two of these says whether a change can
 * only have narrowed what a port accepts (see `narrowedPorts`).
 */
export function portPolicies(state: DesiredHostState): Map<string, PortPolicy> {
  const out = new Map<string, PortPolicy>();
  for (const port of state.ports) {
    if (port.deviceOwner.startsWith('network:')) continue;
    const addresses = port.fixedIps.map((f) => f.ipAddress);
    const zone = conntrackZone(port.networkId);
    if (!isFilteredPort(port)) {
      out.set(port.id, { zone, addresses, ingress: new Set(['*']), egress: new Set(['*']) });
      continue;
    }
    const sides = { ingress: new Set<string>(), egress: new Set<string>() };
    for (const g of port.securityGroupIds) {
      for (const r of state.securityGroups[g] ?? []) {
        const stmt = ruleStatement(r);
        if (stmt === null) continue;
        const members = r.remoteGroupId ? ` members ${[...(state.groupMembers[r.remoteGroupId] ?? [])].sort().join(',')}` : '';
        sides[r.direction].add(stmt + members);
      }
    }
    out.set(port.id, { zone, addresses, ...sides });
  }
  return out;
}

/**
 * Ports still here whose policy lost something in a direction since `before`: flows admitted
 * under the old policy may be ones the new one refuses, so their conntrack entries must go
 * (Neutron deletes them too); flows still allowed are picked up again by their next packet.
 */
export function narrowedPorts(before: ReadonlyMap<string, PortPolicy>, after: ReadonlyMap<string, PortPolicy>): { port: string; policy: PortPolicy; ingress: boolean; egress: boolean }[] {
  const lost = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => !b.has('*') && [...a].some((s) => !b.has(s));
  const out: { port: string; policy: PortPolicy; ingress: boolean; egress: boolean }[] = [];
  for (const [id, policy] of after) {
    const old = before.get(id);
    if (!old || policy.addresses.length === 0) continue;
    const ingress = lost(old.ingress, policy.ingress);
    const egress = lost(old.egress, policy.egress);
    if (ingress || egress) out.push({ port: id, policy, ingress, egress });
  }
  return out;
}
