/**
 * The files of one network's dnsmasq, as pure text (no I/O): the static config (read once at
 * start; a change means a restart), and the hosts, DNS names and per-subnet options (re-read on
 * SIGHUP, so port changes never restart it). Follows Neutron's Dnsmasq driver: static leases only
 * (`static` ranges, one `dhcp-host` per fixed IP — an unknown MAC gets no answer), a `subnet-<id>`
 * tag per subnet selecting its options, the MTU forced (option 26) because many clients do not ask
 * for it, and classless static routes (121, and 249 for old Windows) carrying the host routes, the
 * other subnets of the network on-link, the metadata route and — RFC 3442 makes clients ignore
 * option 3 when 121 is present — the default route.
 *
 * IPv6: not served yet. IPv6 subnets get no `dhcp-range` (so neither DHCPv6 nor router
 * advertisements) — the desired state does not carry `ipv6_address_mode` to choose between SLAAC
 * and stateful DHCPv6; their addresses are still on the DHCP port and their host names resolve (AAAA).
 *
 * Every value spliced into these files is validated first: a comma or newline in a host name or an
 * address would otherwise be a dnsmasq option injection.
 */
import { canonicalIp, formatIp, mask, parseCidr, type Cidr } from '../ipam/addr.js';

/** The metadata service address, routed to the DHCP port when it serves metadata. */
export const METADATA_IP = '169.254.169.254';

/** A subnet dnsmasq serves. */
export interface DnsmasqSubnet {
  readonly id: string;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly dnsNameservers: readonly string[];
  readonly hostRoutes: readonly { readonly destination: string; readonly nexthop: string }[];
  /** dnsmasq's own address on this subnet (the DHCP port's): DNS server by default and metadata next hop. */
  readonly serverIp: string | null;
}

/** What one network's dnsmasq serves. */
export interface DnsmasqSpec {
  readonly networkId: string;
  /** The DHCP port's interface inside the namespace. */
  readonly interfaceName: string;
  /** The network's MTU, sent as option 26. */
  readonly mtu: number;
  /** DNS domain of instance names (trailing dot optional), e.g. `openstacklocal.`. */
  readonly domain: string;
  readonly leaseSeconds: number;
  readonly subnets: readonly DnsmasqSubnet[];
  readonly hosts: readonly { readonly macAddress: string; readonly ipAddress: string; readonly hostname: string }[];
  /** Route 169.254.169.254/32 via `serverIp` on each IPv4 subnet (metadata is answered in the namespace). */
  readonly metadataRoute: boolean;
}

/** Paths of a network's dnsmasq files in its directory. */
export interface DnsmasqPaths {
  readonly conf: string;
  readonly hosts: string;
  readonly addnHosts: string;
  readonly opts: string;
  readonly leases: string;
  readonly pid: string;
  readonly log: string;
  /** pid and digest of the hosts/opts that pid has loaded (see dnsmasq.ts). */
  readonly loaded: string;
}

/** The file paths under a network's directory. */
export function dnsmasqPaths(dir: string): DnsmasqPaths {
  const p = (f: string): string => `${dir}/${f}`;
  return {
    conf: p('dnsmasq.conf'), hosts: p('host'), addnHosts: p('addn_hosts'), opts: p('opts'), leases: p('leases'),
    pid: p('dnsmasq.pid'), log: p('dnsmasq.log'), loaded: p('dnsmasq.loaded'),
  };
}

/** The generated contents. */
export interface DnsmasqFiles {
  readonly conf: string;
  readonly hosts: string;
  readonly addnHosts: string;
  readonly opts: string;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const NAME_RE = new RegExp(`^${LABEL}(\\.${LABEL})*$`, 'i');
const ID_RE = /^[A-Za-z0-9-]+$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const PATH_RE = /^\/[A-Za-z0-9_.\-/]+$/;
/** Neutron's cap on leases per dnsmasq (`dnsmasq_lease_max`). */
const MAX_LEASES = 2 ** 24;

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`dnsmasq: invalid ${what}: ${JSON.stringify(value)}`);
}

function ip(text: string, what: string): string {
  const c = canonicalIp(text);
  check(c !== undefined, what, text);
  return c!;
}

function cidrOf(text: string, what: string): Cidr {
  const c = parseCidr(text);
  check(c !== undefined, what, text);
  return c!;
}

/** Dotted netmask of an IPv4 prefix. */
function netmask(prefix: number): string {
  return formatIp(4, mask(4, prefix));
}

/** The classless static routes (121/249) of a subnet, as `dst,nexthop` pairs; empty when none beyond the default. */
export function classlessRoutes(s: DnsmasqSubnet, others: readonly DnsmasqSubnet[], metadataRoute: boolean): string[] {
  const routes = new Map<string, string>();
  for (const r of s.hostRoutes) {
    const d = cidrOf(r.destination, 'host route destination');
    if (d.version !== 4) continue;
    routes.set(`${formatIp(4, d.network)}/${d.prefix}`, ip(r.nexthop, 'host route next hop'));
  }
  // Other IPv4 subnets of the same network are on-link: no detour through the router.
  for (const o of others) {
    const c = cidrOf(o.cidr, 'subnet cidr');
    const key = `${formatIp(4, c.network)}/${c.prefix}`;
    if (c.version === 4 && o.id !== s.id && !routes.has(key)) routes.set(key, '0.0.0.0');
  }
  if (metadataRoute && s.serverIp && !routes.has(`${METADATA_IP}/32`)) routes.set(`${METADATA_IP}/32`, ip(s.serverIp, 'server address'));
  if (routes.size === 0) return [];
  if (s.gatewayIp && !routes.has('0.0.0.0/0')) routes.set('0.0.0.0/0', ip(s.gatewayIp, 'gateway'));
  return [...routes].map(([d, n]) => `${d},${n}`);
}

/** Renders the four files of a network's dnsmasq living in `dir`. */
export function renderDnsmasq(dir: string, spec: DnsmasqSpec): DnsmasqFiles {
  check(PATH_RE.test(dir), 'directory', dir);
  check(ID_RE.test(spec.networkId), 'network id', spec.networkId);
  check(IFNAME_RE.test(spec.interfaceName), 'interface name', spec.interfaceName);
  check(Number.isInteger(spec.mtu) && spec.mtu >= 68 && spec.mtu <= 65535, 'MTU', spec.mtu);
  check(Number.isInteger(spec.leaseSeconds) && spec.leaseSeconds >= 120, 'lease time', spec.leaseSeconds);
  const domain = spec.domain.replace(/\.$/, '');
  check(domain === '' || NAME_RE.test(domain), 'DNS domain', spec.domain);
  for (const s of spec.subnets) check(ID_RE.test(s.id), 'subnet id', s.id);
  const paths = dnsmasqPaths(dir);

  const served = spec.subnets.map((s) => ({ s, c: cidrOf(s.cidr, 'subnet cidr') })).filter(({ c }) => c.version === 4);
  const leaseMax = Math.min(MAX_LEASES, served.reduce((n, { c }) => n + 2 ** (32 - c.prefix), 0));
  const conf = [
    `# dnsmasq of network ${spec.networkId}, written by the Nephos network agent (a change restarts it).`,
    'no-hosts', 'no-resolv', 'user=nobody', 'group=nogroup',
    `pid-file=${paths.pid}`, `log-facility=${paths.log}`,
    `dhcp-hostsfile=${paths.hosts}`, `addn-hosts=${paths.addnHosts}`, `dhcp-optsfile=${paths.opts}`, `dhcp-leasefile=${paths.leases}`,
    `interface=${spec.interfaceName}`, 'except-interface=lo', 'bind-dynamic', 'local-service',
    // The instance domain is answered here alone: a missing record type is "no data", not REFUSED for want of an upstream.
    ...(domain ? [`domain=${domain}`, `local=/${domain}/`] : []),
    'dhcp-authoritative', `dhcp-lease-max=${Math.max(leaseMax, 1)}`,
    `dhcp-option-force=option:mtu,${spec.mtu}`,
    ...served.map(({ s, c }) => `dhcp-range=set:subnet-${s.id},${formatIp(4, c.network)},static,${netmask(c.prefix)},${spec.leaseSeconds}s`),
  ].join('\n') + '\n';

  const inServed = (addr: string): boolean => {
    const a = parseCidr(addr);
    return !!a && served.some(({ c }) => a.version === 4 && (a.network & mask(4, c.prefix)) === c.network);
  };
  const hostLines: string[] = [];
  const nameLines: string[] = [];
  for (const h of spec.hosts) {
    const mac = h.macAddress.toLowerCase();
    check(MAC_RE.test(mac), 'MAC address', h.macAddress);
    const addr = ip(h.ipAddress, 'host address');
    const name = NAME_RE.test(h.hostname) && !h.hostname.includes('.') ? h.hostname : null;
    if (inServed(addr)) hostLines.push(name ? `${mac},${name},${addr}` : `${mac},${addr}`);
    if (name) nameLines.push(`${addr}\t${domain ? `${name}.${domain} ` : ''}${name}`);
  }

  const optLines: string[] = [];
  for (const { s } of served) {
    const tag = `tag:subnet-${s.id}`;
    // dnsmasq's defaults would announce itself as router and DNS server: always say explicitly.
    const ns = s.dnsNameservers.map((a) => ip(a, 'DNS server')).filter((a) => !a.includes(':'));
    const dns = ns.length === 1 && ns[0] === '0.0.0.0' ? [] : ns.length ? ns : s.serverIp ? [ip(s.serverIp, 'server address')] : [];
    optLines.push([`${tag},option:dns-server`, ...dns].join(','));
    optLines.push(s.gatewayIp ? `${tag},option:router,${ip(s.gatewayIp, 'gateway')}` : `${tag},option:router`);
    const routes = classlessRoutes(s, spec.subnets, spec.metadataRoute);
    if (routes.length) {
      optLines.push(`${tag},option:classless-static-route,${routes.join(',')}`);
      optLines.push(`${tag},249,${routes.join(',')}`);
    }
  }
  const text = (lines: string[]): string => (lines.length ? `${lines.join('\n')}\n` : '');
  return { conf, hosts: text(hostLines), addnHosts: text(nameLines), opts: text(optLines) };
}
