/**
 * L2 of one host: converges the host namespace `nephos-<host>` onto the desired state — per network
 * a bridge `brq…` (plus `vxlan-<vni>` for VXLAN networks, flooding to the other hosts' VTEPs), per
 * port a `tap…` on its network's bridge — and removes the bridges, VXLAN devices and TAPs nobody
 * wants any more. Level-triggered and idempotent: it reads what exists, changes only what differs
 * (a live link that is already right is never touched, so traffic does not blink), and can start
 * from any state, including a half-built one left by a crash. One pass per host at a time (the
 * agent loop serialises them).
 */
import type { DesiredHostState, DesiredNetwork, DesiredPort } from './desired.js';
import { ensureHostNamespace } from './host-namespace.js';
import {
  FLOOD_MAC, fdbAppend, fdbDelete, fdbList, linkAddBridge, linkAddTap, linkAddVxlan, linkDelete, linkSet,
  bridgeSetMcastSnooping, type Link, type LinkSetOptions,
} from '../host/ip.js';
import { BRIDGE_PREFIX, TAP_PREFIX, VXLAN_PREFIX, bridgeName, hostNamespace, tapName, vxlanName } from '../host/names.js';
import { vxlanOverhead } from './mtu.js';

export { networkMtu, vxlanOverhead } from './mtu.js';

/** IANA's VXLAN UDP port. */
export const VXLAN_PORT = 4789;

/** The host's link to the other hosts (multi-host): VXLAN tunnels leave through it. */
export interface Underlay {
  /** The underlay link inside the host namespace. */
  readonly device: string;
  /** This host's VTEP address on it (VXLAN `local`). */
  readonly address: string;
  /** Its MTU; a VXLAN network larger than this minus the encapsulation is reported as an error. */
  readonly mtu: number;
}

export interface L2Options {
  /** Null/absent: a single host; VXLAN devices then have no local address and no peers to reach. */
  readonly underlay?: Underlay | null;
  /** VXLAN UDP port (default 4789). */
  readonly vxlanPort?: number;
}

export interface L2Result {
  readonly namespace: string;
  /** What this pass changed, for the log; empty when the host already matched. */
  readonly changes: readonly string[];
  /** Ports whose link exists, sits on its network's bridge with its MTU and is up (the agent may report them ACTIVE). */
  readonly plugged: readonly string[];
  /** What could not be converged and why; the next pass retries. */
  readonly errors: readonly { readonly object: string; readonly error: string }[];
}

/** A port link the L2 layer places on a bridge; `create`: an instance TAP it makes when absent. */
interface WantedPort { readonly port: DesiredPort; readonly create: boolean }

/**
 * Ports whose host-side link belongs on a bridge. Instance ports get a TAP created here; DHCP and
 * router ports get theirs (veth host ends) from the DHCP/router code, and are only wired here.
 */
function wantedPorts(d: DesiredHostState): Map<string, WantedPort> {
  const out = new Map<string, WantedPort>();
  const foreign = [
    ...d.dhcp.map((x) => x.port),
    ...d.routers.flatMap((r) => [...r.interfaces.map((i) => i.port), ...(r.gateway ? [r.gateway.port] : [])]),
  ];
  for (const p of foreign) out.set(tapName(p.id), { port: p, create: false });
  for (const p of d.ports) {
    if (!out.has(tapName(p.id))) out.set(tapName(p.id), { port: p, create: !p.deviceOwner.startsWith('network:') });
  }
  return out;
}

/** The TAP's own MAC: the instance's with the first byte fe, as libvirt does, so the bridge never adopts a guest's MAC. */
function tapMac(portMac: string): string {
  return `fe${portMac.slice(2)}`;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Converges one host namespace's L2 onto `desired`. Throws only when the namespace itself cannot be made. */
export async function convergeL2(desired: DesiredHostState, o: L2Options = {}): Promise<L2Result> {
  const ns = hostNamespace(desired.host);
  const changes: string[] = [];
  const errors: { object: string; error: string }[] = [];
  const plugged: string[] = [];
  const underlay = o.underlay ?? null;
  const links = new Map((await ensureHostNamespace(desired.host, changes, { ipv6Underlay: Boolean(underlay?.address.includes(':')) }))
    .map((l) => [l.name, l]));

  const attempt = async (object: string, fn: () => Promise<void>): Promise<void> => {
    try { await fn(); } catch (err) { errors.push({ object, error: message(err) }); }
  };

  /** Applies only the attributes that differ from `link`; a link already right gets no command. */
  const fix = async (link: Link, want: { master?: string; mtu: number; up: boolean }): Promise<void> => {
    const set: { -readonly [K in keyof LinkSetOptions]: LinkSetOptions[K] } = {};
    if (want.master !== undefined && link.master !== want.master) set.master = want.master;
    if (link.mtu !== want.mtu) set.mtu = want.mtu;
    if (link.up !== want.up) set.up = want.up;
    if (Object.keys(set).length === 0) return;
    await linkSet(ns, link.name, set);
    changes.push(`set ${link.name} ${JSON.stringify(set)}`);
  };

  const networks = new Map(desired.networks.map((n) => [n.id, n]));
  const bridges = new Map(desired.networks.map((n) => [bridgeName(n.id), n]));
  const vxlans = new Map(desired.networks.filter((n) => n.type === 'vxlan' && n.segmentationId !== null)
    .map((n) => [vxlanName(n.segmentationId!), n]));
  const ports = wantedPorts(desired);
  for (const n of desired.networks) {
    if (n.type === 'vxlan' && n.segmentationId === null) errors.push({ object: bridgeName(n.id), error: `VXLAN network ${n.id} has no VNI` });
  }

  // Unwanted objects first (TAPs, then tunnels, then bridges), which also frees their names.
  for (const [name] of links) {
    const unwanted = (name.startsWith(TAP_PREFIX) && !ports.has(name))
      || (name.startsWith(VXLAN_PREFIX) && !vxlans.has(name))
      || (name.startsWith(BRIDGE_PREFIX) && !bridges.has(name));
    if (!unwanted) continue;
    await attempt(name, async () => {
      if (await linkDelete(ns, name)) changes.push(`deleted ${name}`);
      links.delete(name);
    });
  }

  for (const [name, net] of bridges) await attempt(name, () => ensureBridge(name, net));
  for (const [name, net] of vxlans) await attempt(name, () => ensureVxlan(name, net));
  for (const [name, want] of ports) await attempt(name, () => ensurePort(name, want));
  return { namespace: ns, changes, plugged, errors };

  async function ensureBridge(name: string, net: DesiredNetwork): Promise<void> {
    let link = links.get(name);
    if (link && link.kind !== 'bridge') {
      await linkDelete(ns, name);
      changes.push(`deleted ${name} (a ${link.kind ?? 'device'}, not a bridge)`);
      link = undefined;
    }
    if (!link) {
      await linkAddBridge(ns, name, { mtu: net.mtu, mcastSnooping: false });
      await linkSet(ns, name, { up: true });
      changes.push(`created bridge ${name} mtu ${net.mtu}`);
      return;
    }
    // Snooping off: without a querier on tenant networks it can starve IPv6 neighbour discovery across VXLAN.
    if (link.info.mcast_snooping !== 0) {
      await bridgeSetMcastSnooping(ns, name, false);
      changes.push(`set ${name} mcast_snooping 0`);
    }
    await fix(link, { mtu: net.mtu, up: true });
  }

  async function ensureVxlan(name: string, net: DesiredNetwork): Promise<void> {
    const vni = net.segmentationId!;
    const dstport = o.vxlanPort ?? VXLAN_PORT;
    if (underlay && net.mtu > underlay.mtu - vxlanOverhead(underlay.address.includes(':') ? 6 : 4)) {
      errors.push({ object: name, error: `network MTU ${net.mtu} exceeds what underlay ${underlay.device} (MTU ${underlay.mtu}) carries` });
    }
    let link = links.get(name);
    const same = link && link.kind === 'vxlan' && link.info.id === vni && link.info.port === dstport
      && (link.info.local ?? null) === (underlay?.address ?? null) && (link.info.link ?? null) === (underlay?.device ?? null);
    if (link && !same) {
      // VNI, port, local address and underlay device are fixed at creation: a changed one means a new device.
      await linkDelete(ns, name);
      changes.push(`deleted ${name} (parameters changed)`);
      link = undefined;
    }
    if (!link) {
      await linkAddVxlan(ns, name, { vni, dstport, mtu: net.mtu, ...(underlay ? { local: underlay.address, dev: underlay.device } : {}) });
      await linkSet(ns, name, { master: bridgeName(net.id), up: true });
      changes.push(`created vxlan ${name} vni ${vni} mtu ${net.mtu}`);
    } else {
      await fix(link, { master: bridgeName(net.id), mtu: net.mtu, up: true });
    }
    await ensureFlooding(name, (desired.vtepPeers[net.id] ?? []).filter((ip) => ip !== underlay?.address));
  }

  /** One all-zero-MAC entry per remote VTEP: broadcast and unknown unicast reach every other host. */
  async function ensureFlooding(dev: string, peers: readonly string[]): Promise<void> {
    const have = new Set((await fdbList(ns, dev)).filter((e) => e.mac === FLOOD_MAC && e.dst).map((e) => e.dst!));
    for (const ip of peers) {
      if (have.has(ip)) continue;
      await fdbAppend(ns, dev, FLOOD_MAC, ip);
      changes.push(`fdb ${dev} flood → ${ip}`);
    }
    for (const ip of have) {
      if (peers.includes(ip)) continue;
      await fdbDelete(ns, dev, FLOOD_MAC, ip);
      changes.push(`fdb ${dev} flood ✗ ${ip}`);
    }
  }

  async function ensurePort(name: string, want: WantedPort): Promise<void> {
    const net = networks.get(want.port.networkId);
    if (!net) throw new Error(`port ${want.port.id}: its network ${want.port.networkId} is not in this host's desired state`);
    const up = want.port.adminStateUp && net.adminStateUp;
    const link = links.get(name);
    if (!link) {
      if (!want.create) return; // the DHCP/router code makes this veth; wired on the next pass
      await linkAddTap(ns, name, { mtu: net.mtu, mac: tapMac(want.port.macAddress) });
      await linkSet(ns, name, { master: bridgeName(net.id), up });
      changes.push(`created tap ${name} on ${bridgeName(net.id)} mtu ${net.mtu}${up ? '' : ' (down)'}`);
    } else {
      // An existing link of this name (a QEMU-held TAP, a DHCP/router veth end, a test's veth) is used as it is.
      await fix(link, { master: bridgeName(net.id), mtu: net.mtu, up });
    }
    if (up) plugged.push(want.port.id);
  }
}
