/**
 * Typed wrappers over the slice of iproute2 (`ip`, `bridge`, `sysctl` via `ip netns exec`) that the
 * network agent uses. Reads parse `-j` JSON into small normalised records; writes are single
 * commands with argument arrays. Each write that a reconciler may repeat says what it does when the
 * object already exists or is already gone (returns false rather than failing), so converging
 * twice is harmless.
 *
 * Safety: every write takes a namespace name (a string, never "the default namespace"), so the
 * agent cannot change the machine's own links, addresses or routes by mistake. Reads accept null
 * for the caller's own namespace.
 */
import { exec, HostCommandError } from '../../platform/host/exec.js';

/** A network namespace by name, or null for the caller's own (reads only). */
export type Netns = string | null;

const TIMEOUT_MS = 10_000;

// iproute2 reports "already there" and "not there" only in its stderr text; these are the
// messages of iproute2 6.1 / Linux 6.x for the operations below, classified in one place.
const EXISTS = /File exists|already assigned|Device or resource busy/i;
const MISSING = /Cannot find device|does not exist|No such process|No such file or directory|not found/i;

function because(err: unknown, re: RegExp): boolean {
  return err instanceof HostCommandError && re.test(err.stderr);
}

async function run(cmd: 'ip' | 'bridge', ns: Netns, args: readonly string[]): Promise<string> {
  const argv = ns === null ? args : ['-n', ns, ...args];
  return (await exec(cmd, argv, { timeoutMs: TIMEOUT_MS })).stdout;
}

async function json<T>(cmd: 'ip' | 'bridge', ns: Netns, args: readonly string[]): Promise<T[]> {
  const out = (await run(cmd, ns, ['-j', ...args])).trim();
  return out ? (JSON.parse(out) as T[]) : [];
}

/** Runs a write; resolves false instead of failing when stderr matches `re` (exists / missing). */
async function tolerate(cmd: 'ip' | 'bridge', ns: Netns, args: readonly string[], re: RegExp): Promise<boolean> {
  try {
    await run(cmd, ns, args);
    return true;
  } catch (err) {
    if (because(err, re)) return false;
    throw err;
  }
}

// ---------------------------------------------------------------- namespaces

/** Names of the network namespaces under /run/netns. */
export async function netnsList(): Promise<string[]> {
  return (await json<{ name: string }>('ip', null, ['netns', 'list'])).map((n) => n.name);
}

/** Creates a namespace; false when it already exists. */
export async function netnsAdd(name: string): Promise<boolean> {
  return tolerate('ip', null, ['netns', 'add', name], EXISTS);
}

/**
 * Deletes a namespace; false when it did not exist. Its virtual links (veth pairs with both ends,
 * bridges, VXLAN devices, TAPs) go with it once no process holds it.
 */
export async function netnsDelete(name: string): Promise<boolean> {
  return tolerate('ip', null, ['netns', 'delete', name], MISSING);
}

// ---------------------------------------------------------------- links

/** One link as `ip -d -j link show` describes it, normalised. */
export interface Link {
  readonly index: number;
  readonly name: string;
  /** `bridge`, `vxlan`, `veth`, `tun` (TAP/TUN), … ; null for physical devices and loopback. */
  readonly kind: string | null;
  /** Administratively up (the UP flag), whether or not it has carrier. */
  readonly up: boolean;
  /** Has carrier (LOWER_UP). */
  readonly lowerUp: boolean;
  readonly mtu: number;
  /** The bridge (or other master) it is enslaved to. */
  readonly master: string | null;
  readonly mac: string | null;
  /** The kind-specific attributes (`info_data`), e.g. a VXLAN's `id`, `local`, `link`, `port`. */
  readonly info: Readonly<Record<string, unknown>>;
}

interface RawLink {
  ifindex: number; ifname: string; flags?: string[]; mtu: number; master?: string; address?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

function toLink(r: RawLink): Link {
  const flags = r.flags ?? [];
  return {
    index: r.ifindex, name: r.ifname, kind: r.linkinfo?.info_kind ?? null, up: flags.includes('UP'),
    lowerUp: flags.includes('LOWER_UP'), mtu: r.mtu, master: r.master ?? null, mac: r.address ?? null,
    info: r.linkinfo?.info_data ?? {},
  };
}

/** Every link of a namespace, with details. */
export async function linkList(ns: Netns): Promise<Link[]> {
  return (await json<RawLink>('ip', ns, ['-d', 'link', 'show'])).map(toLink);
}

/** One link by name, or null when there is none. */
export async function linkGet(ns: Netns, name: string): Promise<Link | null> {
  try {
    const [raw] = await json<RawLink>('ip', ns, ['-d', 'link', 'show', 'dev', name]);
    return raw ? toLink(raw) : null;
  } catch (err) {
    if (because(err, MISSING)) return null;
    throw err;
  }
}

/** Common attributes accepted at creation. */
export interface LinkCreateOptions {
  readonly mtu?: number;
  readonly mac?: string;
}

function createAttrs(o: LinkCreateOptions): string[] {
  return [...(o.mtu !== undefined ? ['mtu', String(o.mtu)] : []), ...(o.mac ? ['address', o.mac] : [])];
}

// `name` / `dev` keywords always: a bare link name like `a` would parse as the `address` keyword.
async function linkAdd(ns: string, name: string, o: LinkCreateOptions, typeArgs: readonly string[]): Promise<boolean> {
  return tolerate('ip', ns, ['link', 'add', 'name', name, ...createAttrs(o), 'type', ...typeArgs], EXISTS);
}

/**
 * Creates a Linux bridge (down, STP off). False when a link of that name exists, whatever its
 * kind: callers that care read it with linkGet.
 */
export async function linkAddBridge(ns: string, name: string, o: LinkCreateOptions & { readonly mcastSnooping?: boolean } = {}): Promise<boolean> {
  const snooping = o.mcastSnooping === undefined ? [] : ['mcast_snooping', o.mcastSnooping ? '1' : '0'];
  return linkAdd(ns, name, o, ['bridge', ...snooping]);
}

/** The far end of a veth pair; `netns` puts it in another namespace at creation. */
export interface VethPeer extends LinkCreateOptions {
  readonly name: string;
  readonly netns?: string;
}

/** Creates a veth pair `name` (in `ns`) ↔ `peer.name` (in `peer.netns`, default `ns`). False when `name` exists. */
export async function linkAddVeth(ns: string, name: string, peer: VethPeer, o: LinkCreateOptions = {}): Promise<boolean> {
  const where = peer.netns ? ['netns', peer.netns] : [];
  return linkAdd(ns, name, o, ['veth', 'peer', 'name', peer.name, ...createAttrs(peer), ...where]);
}

/** VXLAN device parameters (`ip link add … type vxlan`). */
export interface VxlanOptions extends LinkCreateOptions {
  readonly vni: number;
  /** Local VTEP address (the host's underlay address); omitted: the kernel picks per packet. */
  readonly local?: string;
  /** Underlay device the tunnel uses. */
  readonly dev?: string;
  /** UDP destination port (IANA VXLAN: 4789). */
  readonly dstport: number;
  /** Learn remote MAC → VTEP from received packets (default true, as the kernel does). */
  readonly learning?: boolean;
}

/** Creates a VXLAN device. False when a link of that name exists. */
export async function linkAddVxlan(ns: string, name: string, o: VxlanOptions): Promise<boolean> {
  const args = ['vxlan', 'id', String(o.vni), 'dstport', String(o.dstport)];
  if (o.local) args.push('local', o.local);
  if (o.dev) args.push('dev', o.dev);
  if (o.learning === false) args.push('nolearning');
  return linkAdd(ns, name, o, args);
}

/**
 * Creates a persistent TAP device (single queue, as QEMU without vhost opens it). False when a
 * link of that name exists. MTU and MAC are applied after creation (`ip tuntap` takes neither).
 */
export async function linkAddTap(ns: string, name: string, o: LinkCreateOptions = {}): Promise<boolean> {
  if (await linkGet(ns, name)) return false;
  if (!await tolerate('ip', ns, ['tuntap', 'add', 'dev', name, 'mode', 'tap'], EXISTS)) return false;
  if (o.mtu !== undefined || o.mac) await linkSet(ns, name, { mtu: o.mtu, mac: o.mac });
  return true;
}

/** Attribute changes applied in one `ip link set`; only the ones given are sent. */
export interface LinkSetOptions {
  /** A bridge to enslave to, or null to release from its master. */
  readonly master?: string | null;
  readonly mtu?: number;
  readonly mac?: string;
  readonly up?: boolean;
}

/** Changes a link's attributes (fails when the link does not exist). */
export async function linkSet(ns: string, name: string, o: LinkSetOptions): Promise<void> {
  const args = ['link', 'set', 'dev', name];
  if (o.mtu !== undefined) args.push('mtu', String(o.mtu));
  if (o.mac) args.push('address', o.mac);
  if (o.master !== undefined) args.push(...(o.master === null ? ['nomaster'] : ['master', o.master]));
  if (o.up !== undefined) args.push(o.up ? 'up' : 'down');
  if (args.length > 4) await run('ip', ns, args);
}

/**
 * Moves a link to another namespace: `target` is a namespace name, or `1` for the machine's own
 * (init) namespace, named by the pid whose namespace it is. `ns` null: from the machine's own.
 */
export async function linkSetNetns(ns: Netns, name: string, target: string | 1): Promise<void> {
  await run('ip', ns, ['link', 'set', 'dev', name, 'netns', String(target)]);
}

/** Sets a bridge's multicast snooping without taking it down. */
export async function bridgeSetMcastSnooping(ns: string, name: string, on: boolean): Promise<void> {
  await run('ip', ns, ['link', 'set', 'dev', name, 'type', 'bridge', 'mcast_snooping', on ? '1' : '0']);
}

/** Deletes a link (a veth takes its peer with it); false when it did not exist. */
export async function linkDelete(ns: string, name: string): Promise<boolean> {
  return tolerate('ip', ns, ['link', 'delete', 'dev', name], MISSING);
}

// ---------------------------------------------------------------- addresses

/** One address on a link. */
export interface Addr {
  readonly dev: string;
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixLength: number;
  /** `address/prefixLength`, the form addrAdd takes. */
  readonly cidr: string;
  readonly scope: string;
}

interface RawAddrLink { ifname: string; addr_info?: { family: string; local: string; prefixlen: number; scope: string }[] }

/** Addresses of a namespace, or of one link in it. */
export async function addrList(ns: Netns, dev?: string): Promise<Addr[]> {
  const raw = await json<RawAddrLink>('ip', ns, ['addr', 'show', ...(dev ? ['dev', dev] : [])]);
  return raw.flatMap((l) => (l.addr_info ?? []).map((a) => ({
    dev: l.ifname, family: a.family === 'inet6' ? 6 as const : 4 as const, address: a.local,
    prefixLength: a.prefixlen, cidr: `${a.local}/${a.prefixlen}`, scope: a.scope,
  })));
}

/** Adds `cidr` (e.g. `10.0.0.1/24`) to a link, with the broadcast address for IPv4; false when already there. */
export async function addrAdd(ns: string, dev: string, cidr: string): Promise<boolean> {
  const brd = cidr.includes(':') ? ['nodad'] : ['brd', '+'];
  return tolerate('ip', ns, ['addr', 'add', cidr, ...brd, 'dev', dev], EXISTS);
}

/** Removes `cidr` from a link; false when it was not there. */
export async function addrDelete(ns: string, dev: string, cidr: string): Promise<boolean> {
  return tolerate('ip', ns, ['addr', 'delete', cidr, 'dev', dev], MISSING);
}

/** Removes every address of a link (of one family, if given). */
export async function addrFlush(ns: string, dev: string, family?: 4 | 6): Promise<void> {
  await run('ip', ns, [...(family ? [`-${family}`] : []), 'addr', 'flush', 'dev', dev]);
}

// ---------------------------------------------------------------- routes

/** A route to add, replace or delete. */
export interface RouteSpec {
  /** `default` or a CIDR. */
  readonly dst: string;
  /** Needed only for an IPv6 `default` (otherwise read from the addresses). */
  readonly family?: 4 | 6;
  readonly via?: string;
  readonly dev?: string;
  readonly src?: string;
  readonly table?: number | string;
  readonly metric?: number;
  readonly scope?: 'global' | 'link' | 'host';
  /** Gateway reachable on `dev` though outside its subnets. */
  readonly onlink?: boolean;
}

/** A route as `ip -j route show` lists it. */
export interface Route {
  readonly dst: string;
  readonly gateway: string | null;
  readonly dev: string | null;
  readonly prefsrc: string | null;
  readonly protocol: string | null;
  readonly scope: string | null;
  readonly metric: number | null;
  readonly type: string | null;
}

function routeArgs(verb: 'add' | 'replace' | 'delete', r: RouteSpec): string[] {
  const six = r.family === 6 || r.dst.includes(':') || Boolean(r.via?.includes(':'));
  const a: string[] = [six ? '-6' : '-4', 'route', verb, r.dst];
  if (r.via) a.push('via', r.via);
  if (r.dev) a.push('dev', r.dev);
  if (r.src) a.push('src', r.src);
  if (r.table !== undefined) a.push('table', String(r.table));
  if (r.metric !== undefined) a.push('metric', String(r.metric));
  if (r.scope) a.push('scope', r.scope);
  if (r.onlink) a.push('onlink');
  return a;
}

/** Adds a route; false when an equal route already exists. */
export async function routeAdd(ns: string, r: RouteSpec): Promise<boolean> {
  return tolerate('ip', ns, routeArgs('add', r), EXISTS);
}

/** Adds or replaces the route to `dst` (idempotent by nature). */
export async function routeReplace(ns: string, r: RouteSpec): Promise<void> {
  await run('ip', ns, routeArgs('replace', r));
}

/** Deletes a route; false when there was none. */
export async function routeDelete(ns: string, r: RouteSpec): Promise<boolean> {
  return tolerate('ip', ns, routeArgs('delete', r), MISSING);
}

/** Routes of one family in a table (default: main). */
export async function routeList(ns: Netns, o: { readonly family?: 4 | 6; readonly table?: number | string } = {}): Promise<Route[]> {
  const raw = await json<Record<string, unknown>>('ip', ns, [`-${o.family ?? 4}`, 'route', 'show', 'table', String(o.table ?? 'main')]);
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return raw.map((r) => ({
    dst: str(r.dst) ?? 'default', gateway: str(r.gateway), dev: str(r.dev), prefsrc: str(r.prefsrc),
    protocol: str(r.protocol), scope: str(r.scope), metric: typeof r.metric === 'number' ? r.metric : null, type: str(r.type),
  }));
}

// ---------------------------------------------------------------- neighbours

/** A neighbour (ARP/NDP) entry. */
export interface Neigh {
  readonly dst: string;
  readonly dev: string;
  readonly mac: string | null;
  readonly state: readonly string[];
}

/** Sets a neighbour entry (permanent unless told otherwise); idempotent. */
export async function neighReplace(ns: string, n: { readonly dst: string; readonly mac: string; readonly dev: string; readonly permanent?: boolean }): Promise<void> {
  await run('ip', ns, ['neigh', 'replace', n.dst, 'lladdr', n.mac, 'dev', n.dev, 'nud', n.permanent === false ? 'reachable' : 'permanent']);
}

/** Deletes a neighbour entry; false when there was none. */
export async function neighDelete(ns: string, dst: string, dev: string): Promise<boolean> {
  return tolerate('ip', ns, ['neigh', 'delete', dst, 'dev', dev], MISSING);
}

/** Neighbour entries of a namespace (or of one link). */
export async function neighList(ns: Netns, dev?: string): Promise<Neigh[]> {
  const raw = await json<{ dst: string; dev?: string; lladdr?: string; state?: string[] }>('ip', ns, ['neigh', 'show', ...(dev ? ['dev', dev] : [])]);
  return raw.map((n) => ({ dst: n.dst, dev: n.dev ?? dev ?? '', mac: n.lladdr ?? null, state: n.state ?? [] }));
}

// ---------------------------------------------------------------- bridge fdb (VXLAN forwarding)

/** A forwarding database entry. */
export interface FdbEntry {
  readonly mac: string;
  readonly dev: string;
  /** Remote VTEP of a VXLAN entry. */
  readonly dst: string | null;
  /** The bridge, for entries of the bridge's own table. */
  readonly master: string | null;
  readonly flags: readonly string[];
  readonly state: string | null;
}

/** The all-zero MAC: a VXLAN entry with it floods broadcast/unknown traffic to its `dst` (head-end replication). */
export const FLOOD_MAC = '00:00:00:00:00:00';

/** Adds a VXLAN forwarding entry `mac → dst` on `dev` (one MAC may list several VTEPs); idempotent. */
export async function fdbAppend(ns: string, dev: string, mac: string, dst: string): Promise<void> {
  await run('bridge', ns, ['fdb', 'append', mac, 'dev', dev, 'dst', dst]);
}

/**
 * Removes `mac → dst` (or every entry of `mac` when `dst` is omitted) from `dev`. Idempotent; false
 * when `mac` had no entry on `dev` at all (an absent `dst` of a present `mac` is accepted silently).
 */
export async function fdbDelete(ns: string, dev: string, mac: string, dst?: string): Promise<boolean> {
  return tolerate('bridge', ns, ['fdb', 'delete', mac, 'dev', dev, ...(dst ? ['dst', dst] : [])], MISSING);
}

/** Forwarding entries of a namespace (or of one device). */
export async function fdbList(ns: Netns, dev?: string): Promise<FdbEntry[]> {
  const raw = await json<{ mac: string; ifname?: string; dst?: string; master?: string; flags?: string[]; state?: string }>(
    'bridge', ns, ['fdb', 'show', ...(dev ? ['dev', dev] : [])]);
  return raw.map((e) => ({
    mac: e.mac, dev: e.ifname ?? dev ?? '', dst: e.dst ?? null, master: e.master ?? null, flags: e.flags ?? [], state: e.state ?? null,
  }));
}

// ---------------------------------------------------------------- sysctl

/** Reads sysctl keys (`net.ipv4.ip_forward`, …) inside a namespace; unknown keys are left out. */
export async function sysctlGet(ns: string, keys: readonly string[]): Promise<Record<string, string>> {
  const { stdout } = await exec('sysctl', ['-e', ...keys], { netns: ns, timeoutMs: TIMEOUT_MS });
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) = (.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Writes sysctl values inside a namespace (never the machine's own: the namespace is required). */
export async function sysctlSet(ns: string, values: Readonly<Record<string, string | number>>): Promise<void> {
  const pairs = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (pairs.length) await exec('sysctl', ['-q', '-w', ...pairs], { netns: ns, timeoutMs: TIMEOUT_MS });
}
