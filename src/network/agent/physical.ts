/**
 * Flat networks on real host interfaces (Neutron's `physical_interface_mappings`): an operator maps
 * a physical network name to an interface of the machine, e.g. `physnet1:ens4`. While a flat
 * network of that physical network is on this host, the agent moves the interface into the host
 * namespace and enslaves it to the network's bridge; when no such network is left it gives the
 * interface back to the machine's own namespace, unchanged otherwise.
 *
 * Safety: moving an interface takes it away from the machine, so one that holds an address (other
 * than IPv6 link-local) or carries a route of the machine's namespace is refused, with the reason
 * as an agent error: the uplink can never be taken by a wrong mapping. Off by default.
 */
import type { DesiredHostState } from './desired.js';
import { addrList, linkGet, linkSet, linkSetNetns, routeList, type Addr, type Route } from '../host/ip.js';
import { bridgeName, hostNamespace } from '../host/names.js';
import type { StepResult } from './agent.js';

/** physnet → interface name. */
export type InterfaceMappings = ReadonlyMap<string, string>;

const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/;

/** Parses `physnet:interface` entries; throws on a malformed entry or a physnet/interface mapped twice. */
export function parseInterfaceMappings(entries: readonly string[]): InterfaceMappings {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const entry of entries) {
    const m = /^([^:\s]+):([^:\s]+)$/.exec(entry.trim());
    if (!m || !IFNAME_RE.test(m[2]!)) throw new Error(`physical_interface_mappings: ${JSON.stringify(entry)} is not "physnet:interface"`);
    const [, physnet, dev] = m as unknown as [string, string, string];
    if (out.has(physnet)) throw new Error(`physical_interface_mappings: physical network ${physnet} is mapped twice`);
    if (used.has(dev)) throw new Error(`physical_interface_mappings: interface ${dev} is mapped twice`);
    out.set(physnet, dev);
    used.add(dev);
  }
  return out;
}

/**
 * Why an interface of the machine's namespace must not be moved (null when it may): it holds an
 * address other than IPv6 link-local, or a route of that namespace uses it.
 */
export function refusalReason(dev: string, addrs: readonly Addr[], routes: readonly Route[]): string | null {
  const held = addrs.filter((a) => a.dev === dev && !(a.family === 6 && a.scope === 'link'));
  if (held.length) return `interface ${dev} holds addresses of this machine (${held.map((a) => a.cidr).join(', ')}); not moved`;
  const used = routes.filter((r) => r.dev === dev);
  if (used.length) return `interface ${dev} carries routes of this machine (${used.map((r) => r.dst).join(', ')}); not moved`;
  return null;
}

/** Converges the mapped interfaces: on their flat network's bridge while one is here, else back home. */
export async function convergePhysical(desired: DesiredHostState, mappings: InterfaceMappings): Promise<StepResult> {
  const changes: string[] = [];
  const errors: { object: string; error: string }[] = [];
  if (mappings.size === 0) return { changes, errors };
  const ns = hostNamespace(desired.host);
  for (const [physnet, dev] of mappings) {
    const net = desired.networks.find((n) => n.type === 'flat' && n.physicalNetwork === physnet);
    try {
      const inHost = await linkGet(ns, dev);
      if (!net) {
        // Not needed here: give it back, detached from any bridge and down as it came.
        if (inHost) {
          await linkSetNetns(ns, dev, 1);
          changes.push(`returned ${dev} (${physnet}) to the machine's namespace`);
        }
        continue;
      }
      if (!inHost) {
        const machine = await linkGet(null, dev);
        if (!machine) { errors.push({ object: dev, error: `interface ${dev} of physical network ${physnet} does not exist` }); continue; }
        const why = refusalReason(dev, await addrList(null, dev), [...await routeList(null, { family: 4 }), ...await routeList(null, { family: 6 })]);
        if (why) { errors.push({ object: dev, error: why }); continue; }
        await linkSetNetns(null, dev, ns);
        changes.push(`moved ${dev} (${physnet}) into ${ns}`);
      }
      const link = inHost ?? await linkGet(ns, dev);
      const bridge = bridgeName(net.id);
      if (!link || link.master !== bridge || !link.up) {
        await linkSet(ns, dev, { master: bridge, up: true });
        changes.push(`${dev} on ${bridge}`);
      }
    } catch (err) {
      errors.push({ object: dev, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { changes, errors };
}

/** Gives every mapped interface still in the host namespace back (before that namespace is deleted). */
export async function returnPhysicalInterfaces(host: string, mappings: InterfaceMappings): Promise<string[]> {
  const done: string[] = [];
  const ns = hostNamespace(host);
  for (const dev of mappings.values()) {
    if (await linkGet(ns, dev).catch(() => null)) {
      await linkSetNetns(ns, dev, 1);
      done.push(`returned ${dev} to the machine's namespace`);
    }
  }
  return done;
}
