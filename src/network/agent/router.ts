/**
 * Routers of one host: a namespace per router with its tenant interfaces (`qr-…`) and gateway
 * (`qg-…`) as veth pairs whose host ends (`tap…`) L2 puts on the networks' bridges; forwarding,
 * SNAT of tenant subnets to the gateway address, DNAT/SNAT pairs for floating IPs (their
 * addresses on `qg-…` so the external network's ARP finds them), the default route via the
 * external subnet's gateway and static routes. Idempotent like L2: what is right is not touched;
 * routers no longer wanted lose their namespace (and with it every link and rule).
 */
import type { DesiredHostState, DesiredPort, DesiredRouter } from './desired.js';
import { addrAdd, addrDelete, addrList, linkAddVeth, linkDelete, linkGet, linkList, linkSet, netnsAdd, netnsDelete, netnsList, routeDelete, routeList, routeReplace, sysctlSet } from '../host/ip.js';
import { nftApplyTable, nftShowTable } from '../host/nft.js';
import { gatewayInterfaceName, hostNamespace, routerInterfaceName, routerNamespace, tapName } from '../host/names.js';
import { formatCidr, parseCidr } from '../ipam/addr.js';
import type { StepResult } from './agent.js';

const NAT_TABLE = { family: 'ip', name: 'nephos-router' } as const;
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The floating IPs a router translates: IPv4 pairs, behind its gateway. */
const translatedFloatingIps = (r: DesiredRouter): DesiredRouter['floatingIps'] =>
  r.gateway ? r.floatingIps.filter((f) => !f.floatingIp.includes(':') && !f.fixedIp.includes(':')) : [];

/** The nft NAT rules of a router (IPv4): floating IP pairs first, then SNAT of everything else leaving by the gateway. */
export function routerNatRules(r: DesiredRouter): string {
  const gw = r.gateway;
  if (!gw) return '';
  const qg = gatewayInterfaceName(gw.port.id);
  const gwIp = gw.cidrs.map((c) => c.split('/')[0]!).find((ip) => !ip.includes(':'));
  const pre: string[] = [];
  const post: string[] = [];
  for (const f of translatedFloatingIps(r)) {
    pre.push(`    ip daddr ${f.floatingIp} dnat to ${f.fixedIp}`);
    post.push(`    ip saddr ${f.fixedIp} oifname "${qg}" snat to ${f.floatingIp}`);
  }
  // Tenant subnets leave by the gateway with its address (Neutron's SNAT), unless disabled.
  if (gw.enableSnat && gwIp) {
    for (const i of r.interfaces) {
      for (const c of i.cidrs) {
        const net = parseCidr(c);
        if (net && net.version === 4) post.push(`    ip saddr ${formatCidr(net)} oifname "${qg}" snat to ${gwIp}`);
      }
    }
  }
  return [
    '  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', ...pre, '  }',
    // Locally generated packets to a floating IP (e.g. from the router itself) are translated too.
    '  chain output {', '    type nat hook output priority -100; policy accept;', ...pre, '  }',
    '  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;', ...post, '  }',
  ].join('\n');
}

/** Makes the veth of a router port and puts its addresses, MAC and MTU right. */
async function plugPort(ns: string, hostNs: string, dev: string, port: DesiredPort, cidrs: readonly string[], mtu: number, changes: string[]): Promise<void> {
  let link = await linkGet(ns, dev);
  if (!link) {
    await linkAddVeth(ns, dev, { name: tapName(port.id), netns: hostNs, mtu }, { mac: port.macAddress, mtu });
    changes.push(`created ${dev}`);
    link = await linkGet(ns, dev);
  }
  if (link && (link.mtu !== mtu || !link.up || link.mac !== port.macAddress)) {
    await linkSet(ns, dev, { mtu, up: true, ...(link.mac !== port.macAddress ? { mac: port.macAddress } : {}) });
  }
  const have = new Set((await addrList(ns, dev)).filter((a) => a.scope === 'global').map((a) => a.cidr));
  for (const c of cidrs) if (!have.has(c)) { await addrAdd(ns, dev, c); changes.push(`${dev} + ${c}`); }
  for (const c of have) if (!cidrs.includes(c)) { await addrDelete(ns, dev, c); changes.push(`${dev} - ${c}`); }
}

/** Converges one router; returns the ports it plugged and the floating IPs it translates (IPv4, behind a gateway). */
async function convergeRouter(host: string, r: DesiredRouter, mtuOf: (networkId: string) => number, changes: string[]): Promise<{ plugged: string[]; floatingIps: string[] }> {
  const ns = routerNamespace(host, r.id);
  const hostNs = hostNamespace(host);
  if (await netnsAdd(ns)) {
    changes.push(`created ${ns}`);
    await linkSet(ns, 'lo', { up: true });
    await sysctlSet(ns, { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 });
  }
  const plugged: string[] = [];
  const wanted = new Set<string>();
  for (const i of r.interfaces) {
    const dev = routerInterfaceName(i.port.id);
    wanted.add(dev);
    await plugPort(ns, hostNs, dev, i.port, i.cidrs, mtuOf(i.port.networkId), changes);
    plugged.push(i.port.id);
  }
  if (r.gateway) {
    const dev = gatewayInterfaceName(r.gateway.port.id);
    wanted.add(dev);
    // Floating IPs live on the gateway as /32s, so the external network's ARP reaches this router.
    const fips = r.floatingIps.filter((f) => !f.floatingIp.includes(':')).map((f) => `${f.floatingIp}/32`);
    await plugPort(ns, hostNs, dev, r.gateway.port, [...r.gateway.cidrs, ...fips], mtuOf(r.gateway.port.networkId), changes);
    plugged.push(r.gateway.port.id);
  }
  // Interfaces removed from the router: their veth goes (the host end with it).
  for (const l of await linkList(ns)) {
    if ((l.name.startsWith('qr-') || l.name.startsWith('qg-')) && !wanted.has(l.name)) {
      await linkDelete(ns, l.name);
      changes.push(`deleted ${l.name}`);
    }
  }
  await convergeRoutes(ns, r, changes);
  const rules = routerNatRules(r);
  const current = await nftShowTable(ns, NAT_TABLE);
  if (rules === '') {
    if (current !== null) { await nftApplyTable(ns, NAT_TABLE, ''); changes.push(`${ns}: NAT cleared`); }
  } else if (current === null || normalise(current) !== normalise(`table ip nephos-router {\n${rules}\n}`)) {
    // Replacing the table keeps conntrack entries: established flows keep their translation.
    await nftApplyTable(ns, NAT_TABLE, rules);
    changes.push(`${ns}: NAT applied`);
  }
  return { plugged, floatingIps: translatedFloatingIps(r).map((f) => f.id) };
}

/** Whitespace- and order-insensitive form of a ruleset, to skip re-applying an identical one. */
const normalise = (t: string): string => t.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).sort().join('\n');

async function convergeRoutes(ns: string, r: DesiredRouter, changes: string[]): Promise<void> {
  const want = new Map<string, string>();
  if (r.gateway?.gatewayIp && !r.gateway.gatewayIp.includes(':')) want.set('default', r.gateway.gatewayIp);
  for (const rt of r.routes) if (!rt.destination.includes(':')) want.set(rt.destination === '0.0.0.0/0' ? 'default' : rt.destination, rt.nexthop);
  const have = (await routeList(ns, { family: 4 })).filter((x) => x.gateway !== null);
  for (const x of have) {
    const key = x.dst;
    if (want.get(key) !== x.gateway) { await routeDelete(ns, { dst: key, via: x.gateway ?? undefined }); changes.push(`${ns}: route ${key} removed`); }
  }
  for (const [dst, via] of want) {
    if (have.some((x) => x.dst === dst && x.gateway === via)) continue;
    try {
      await routeReplace(ns, { dst, via });
      changes.push(`${ns}: route ${dst} via ${via}`);
    } catch (err) {
      // A nexthop not (yet) on a connected subnet: retried on the next pass.
      throw new Error(`route ${dst} via ${via}: ${message(err)}`);
    }
  }
}

/** Converges every router of `desired` on this host; removes the namespaces of routers no longer here. */
export async function convergeRouters(desired: DesiredHostState): Promise<StepResult> {
  const changes: string[] = [];
  const errors: { object: string; error: string }[] = [];
  const plugged: string[] = [];
  const floatingIps: string[] = [];
  const mtus = new Map(desired.networks.map((n) => [n.id, n.mtu]));
  const mtuOf = (id: string): number => mtus.get(id) ?? 1500;
  const prefix = `${hostNamespace(desired.host)}-router-`;
  const wanted = new Set(desired.routers.map((r) => routerNamespace(desired.host, r.id)));
  for (const ns of await netnsList()) {
    if (!ns.startsWith(prefix) || wanted.has(ns)) continue;
    try {
      // The veths go with the namespace; their host ends vanish with them.
      await netnsDelete(ns);
      changes.push(`deleted ${ns}`);
    } catch (err) { errors.push({ object: ns, error: message(err) }); }
  }
  for (const r of desired.routers) {
    try {
      const done = await convergeRouter(desired.host, r, mtuOf, changes);
      plugged.push(...done.plugged);
      floatingIps.push(...done.floatingIps);
    } catch (err) {
      errors.push({ object: routerNamespace(desired.host, r.id), error: message(err) });
    }
  }
  return { changes, errors, plugged, floatingIps };
}
