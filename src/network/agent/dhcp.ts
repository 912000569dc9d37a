/**
 * DHCP (and metadata) of one host: per DHCP network a namespace `nephos-<host>-dhcp-<netid>` holding
 * the DHCP port's interface `ns-…` (the port's MAC, the network's MTU, its fixed IPs and, for
 * metadata, 169.254.169.254/32), whose veth peer `tap…` sits in the host namespace on the
 * network's bridge; dnsmasq serving the port-derived static hosts; haproxy answering metadata.
 * Everything for networks no longer wanted is removed: processes (by pid), namespace, files.
 *
 * Level-triggered and idempotent: a pass reads what exists and changes only what differs; a healthy
 * dnsmasq is never restarted (host changes are a SIGHUP), and daemons outlive the agent and are
 * adopted by pid file. Run it after convergeL2 made the host namespace and bridges: it wires the
 * new veth end onto the bridge itself so one pass is enough (convergeL2 keeps it right afterwards).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DesiredDhcp, DesiredHostState, DesiredNetwork } from './desired.js';
import {
  addrAdd, addrDelete, addrList, linkAddVeth, linkDelete, linkGet, linkList, linkSet, netnsAdd, netnsDelete, netnsList,
  type LinkSetOptions,
} from '../host/ip.js';
import { bridgeName, dhcpInterfaceName, dhcpNamespace, hostNamespace, tapName } from '../host/names.js';
import { ensureDnsmasq, stopDnsmasq, METADATA_IP, type DnsmasqSubnet } from '../host/dnsmasq.js';
import { ensureHaproxy, stopHaproxy, type HaproxyFiles } from '../host/haproxy.js';
import { assertTraversableByOthers, ensureDir } from '../host/files.js';
import { canonicalIp, parseCidr } from '../ipam/addr.js';
import { metadataHaproxyConfig } from './metadata-haproxy.js';

/** Neutron's default `dhcp_lease_duration`. */
export const DEFAULT_LEASE_SECONDS = 86_400;

/**
 * Default `dir` of a host: runtime data under /run (gone at reboot, like the namespaces and daemons
 * it describes; the agent rewrites it all), outside the private state directory that `nobody` cannot enter.
 */
export function defaultDhcpDir(host: string): string {
  return `/run/nephos/${hostNamespace(host).slice('nephos-'.length)}/dhcp`;
}

/** Default metadata proxy socket of a host (in a directory haproxy, as `nobody`, can traverse). */
export function defaultMetadataSocket(host: string): string {
  return `/run/nephos/${hostNamespace(host).slice('nephos-'.length)}/metadata-proxy.sock`;
}

export interface DhcpOptions {
  /**
   * This host's directory of per-network directories (`<dir>/<network id>/`: dnsmasq config, hosts,
   * options, leases, haproxy config, pid files). dnsmasq and haproxy run as `nobody` and re-read
   * files there, so every ancestor must be traversable by others (checked; the private 0700
   * state directory is not). One host per directory: anything in it the host does not want is removed.
   */
  readonly dir: string;
  /** DHCP lease time in seconds (Neutron's `dhcp_lease_duration`, default 86400). */
  readonly leaseSeconds?: number;
  /**
   * Answer 169.254.169.254:80 in every DHCP namespace, forwarding to the metadata proxy socket
   * (metadata-proxy.ts) with the network's token; DHCP then routes 169.254.169.254/32 to the port.
   * Null/absent: no metadata.
   */
  readonly metadata?: { readonly socketPath: string; readonly proxyKey: string } | null;
}

export interface DhcpResult {
  /** What this pass changed, for the log; empty when the host already matched. */
  readonly changes: readonly string[];
  /** Networks whose DHCP (and metadata, when enabled) runs with current data. */
  readonly served: readonly string[];
  /** dnsmasq pid per served network (for status and tests). */
  readonly pids: Readonly<Record<string, { readonly dnsmasq: number; readonly haproxy: number | null }>>;
  /** What could not be converged and why; the next pass retries. */
  readonly errors: readonly { readonly object: string; readonly error: string }[];
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const exists = async (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/** The haproxy files of a network directory. */
export function metadataHaproxyFiles(netDir: string): HaproxyFiles {
  return { config: join(netDir, 'haproxy.cfg'), pidFile: join(netDir, 'haproxy.pid') };
}

/** Stops whatever daemons of ours a network directory names, then removes it. */
async function removeNetworkDir(netDir: string): Promise<boolean> {
  const had = await exists(netDir);
  if (!had) return false;
  await stopDnsmasq(netDir);
  await stopHaproxy(metadataHaproxyFiles(netDir));
  await rm(netDir, { recursive: true, force: true });
  return true;
}

/**
 * Converges the DHCP namespaces, daemons and files of `desired.host`. Per-network failures are
 * reported in `errors` (the next pass retries); it throws only when `o.dir` or the metadata socket's
 * directory is unusable (e.g. not traversable by `nobody`), which no retry would fix.
 */
export async function convergeDhcp(desired: DesiredHostState, o: DhcpOptions): Promise<DhcpResult> {
  const host = desired.host;
  const hostNs = hostNamespace(host);
  const nsPrefix = `${hostNs}-dhcp-`;
  const changes: string[] = [];
  const errors: { object: string; error: string }[] = [];
  const served: string[] = [];
  const pids: Record<string, { dnsmasq: number; haproxy: number | null }> = {};
  const metadata = o.metadata ?? null;
  const networks = new Map(desired.networks.map((n) => [n.id, n]));
  const wanted = new Map(desired.dhcp.map((d) => [d.networkId, d]));

  const attempt = async (object: string, fn: () => Promise<void>): Promise<boolean> => {
    try { await fn(); return true; } catch (err) { errors.push({ object, error: message(err) }); return false; }
  };

  await ensureDir(o.dir, 0o755);
  await assertTraversableByOthers(o.dir);
  if (metadata) await assertTraversableByOthers(join(metadata.socketPath, '..'));

  // Unwanted networks first: their daemons by pid, then their namespaces (with the veth pair), then files.
  for (const ns of await netnsList()) {
    if (!ns.startsWith(nsPrefix)) continue;
    const netId = ns.slice(nsPrefix.length);
    if (wanted.has(netId)) continue;
    await attempt(ns, async () => {
      if (/^[A-Za-z0-9-]+$/.test(netId) && await removeNetworkDir(join(o.dir, netId))) changes.push(`removed DHCP of ${netId}`);
      if (await netnsDelete(ns)) changes.push(`deleted namespace ${ns}`);
    });
  }
  for (const entry of await readdir(o.dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || wanted.has(entry.name) || !/^[A-Za-z0-9-]+$/.test(entry.name)) continue;
    const netDir = join(o.dir, entry.name);
    // Only directories recognisably ours: never delete something an operator put there.
    if (!await exists(join(netDir, 'dnsmasq.conf')) && !await exists(join(netDir, 'haproxy.cfg'))) continue;
    await attempt(netDir, async () => {
      if (await removeNetworkDir(netDir)) changes.push(`removed DHCP files of ${entry.name}`);
    });
  }

  for (const d of desired.dhcp) {
    const ns = dhcpNamespace(host, d.networkId);
    await attempt(ns, () => convergeNetwork(d, ns));
  }
  return { changes, served, pids, errors };

  async function convergeNetwork(d: DesiredDhcp, ns: string): Promise<void> {
    const net = networks.get(d.networkId);
    if (!net) throw new Error(`DHCP network ${d.networkId} is not in this host's desired state`);
    if (!await linkGet(hostNs, 'lo')) throw new Error(`host namespace ${hostNs} does not exist yet (converge L2 first)`);
    if (await netnsAdd(ns)) changes.push(`created namespace ${ns}`);
    const lo = await linkGet(ns, 'lo');
    if (lo && !lo.up) await linkSet(ns, 'lo', { up: true });

    const ifName = dhcpInterfaceName(d.port.id);
    await ensureVeth(d, net, ns, ifName);
    await ensureAddresses(d, ns, ifName);

    const netDir = join(o.dir, d.networkId);
    const dns = await ensureDnsmasq(ns, netDir, {
      networkId: d.networkId, interfaceName: ifName, mtu: net.mtu, domain: d.dnsDomain,
      leaseSeconds: o.leaseSeconds ?? DEFAULT_LEASE_SECONDS, subnets: d.subnets.map((s) => serverSubnet(d, s)),
      hosts: d.hosts, metadataRoute: metadata !== null,
    });
    if (dns.action !== 'unchanged') changes.push(`dnsmasq of ${d.networkId} ${dns.action} (pid ${dns.pid})`);

    let haproxy: number | null = null;
    const files = metadataHaproxyFiles(netDir);
    if (metadata) {
      const h = await ensureHaproxy(ns, files, metadataHaproxyConfig({ networkId: d.networkId, pidFile: files.pidFile, ...metadata }));
      if (h.action !== 'unchanged') changes.push(`metadata haproxy of ${d.networkId} ${h.action} (pid ${h.pid})`);
      haproxy = h.pid;
    } else if (await stopHaproxy(files)) {
      changes.push(`metadata haproxy of ${d.networkId} stopped`);
    }
    pids[d.networkId] = { dnsmasq: dns.pid, haproxy };
    served.push(d.networkId);
  }

  /** The veth pair ns-… (namespace) ↔ tap… (host namespace), with the port's MAC and the network's MTU. */
  async function ensureVeth(d: DesiredDhcp, net: DesiredNetwork, ns: string, ifName: string): Promise<void> {
    const tap = tapName(d.port.id);
    // An `ns-` link of an earlier DHCP port of this network goes (its veth peer with it).
    for (const l of await linkList(ns)) {
      if (l.name.startsWith('ns-') && l.name !== ifName && await linkDelete(ns, l.name)) changes.push(`deleted ${l.name} in ${ns}`);
    }
    let inner = await linkGet(ns, ifName);
    let outer = await linkGet(hostNs, tap);
    if (inner && (inner.kind !== 'veth' || !outer)) {
      await linkDelete(ns, inner.name);
      changes.push(`deleted ${ifName} in ${ns} (not a veth with its host end)`);
      inner = null;
      outer = await linkGet(hostNs, tap);
    }
    if (!inner) {
      // A host-side link of this name without its namespace end is a leftover: make the pair anew.
      if (outer && await linkDelete(hostNs, tap)) changes.push(`deleted stray ${tap}`);
      await linkAddVeth(hostNs, tap, { name: ifName, netns: ns, mac: d.port.macAddress, mtu: net.mtu }, { mtu: net.mtu });
      changes.push(`created veth ${tap} ↔ ${ifName} in ${ns} mtu ${net.mtu}`);
      inner = await linkGet(ns, ifName);
      outer = await linkGet(hostNs, tap);
      if (!inner || !outer) throw new Error(`veth ${tap} ↔ ${ifName} vanished after creation`);
      // Wire the host end now when the bridge is there (convergeL2 owns it from then on).
      const up = d.port.adminStateUp && net.adminStateUp;
      if (await linkGet(hostNs, bridgeName(net.id))) await linkSet(hostNs, tap, { master: bridgeName(net.id), up });
    }
    const set: { -readonly [K in keyof LinkSetOptions]: LinkSetOptions[K] } = {};
    if (inner.mac?.toLowerCase() !== d.port.macAddress.toLowerCase()) set.mac = d.port.macAddress;
    if (inner.mtu !== net.mtu) set.mtu = net.mtu;
    if (!inner.up) set.up = true;
    if (Object.keys(set).length) {
      await linkSet(ns, ifName, set);
      changes.push(`set ${ifName} in ${ns} ${JSON.stringify(set)}`);
    }
  }

  /** The port's fixed IPs with their subnets' prefixes, plus the metadata address; nothing else. */
  async function ensureAddresses(d: DesiredDhcp, ns: string, ifName: string): Promise<void> {
    const subnets = new Map(d.subnets.map((s) => [s.id, s]));
    const want = new Set<string>();
    for (const f of d.port.fixedIps) {
      const s = subnets.get(f.subnetId);
      const c = s ? parseCidr(s.cidr) : undefined;
      const a = canonicalIp(f.ipAddress);
      if (c && a) want.add(`${a}/${c.prefix}`);
    }
    if (metadata) want.add(`${METADATA_IP}/32`);
    const have = (await addrList(ns, ifName)).filter((a) => a.scope !== 'link');
    const haveSet = new Set(have.map((a) => `${canonicalIp(a.address) ?? a.address}/${a.prefixLength}`));
    for (const a of have) {
      const key = `${canonicalIp(a.address) ?? a.address}/${a.prefixLength}`;
      if (!want.has(key) && await addrDelete(ns, ifName, a.cidr)) changes.push(`removed ${a.cidr} from ${ifName}`);
    }
    for (const cidr of want) {
      if (!haveSet.has(cidr) && await addrAdd(ns, ifName, cidr)) changes.push(`added ${cidr} to ${ifName}`);
    }
  }
}

/** A subnet as dnsmasq serves it: with the DHCP port's own address on it. */
function serverSubnet(d: DesiredDhcp, s: DesiredDhcp['subnets'][number]): DnsmasqSubnet {
  const own = d.port.fixedIps.find((f) => f.subnetId === s.id)?.ipAddress ?? null;
  return { id: s.id, cidr: s.cidr, gatewayIp: s.gatewayIp, dnsNameservers: s.dnsNameservers, hostRoutes: s.hostRoutes, serverIp: own };
}

/** Removes every DHCP namespace, daemon and file of `host` (what a converge with no DHCP networks does). */
export async function removeAllDhcp(host: string, o: DhcpOptions): Promise<DhcpResult> {
  return convergeDhcp({ host, networks: [], ports: [], securityGroups: {}, groupMembers: {}, dhcp: [], routers: [], vtepPeers: {} }, o);
}
