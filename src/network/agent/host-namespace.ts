/**
 * A host's own namespace `nephos-<host>`: where its bridges, VXLAN devices and instance TAPs live,
 * so nothing the cloud builds touches the machine's default namespace. Ensuring it is idempotent
 * and cheap when it is already right (one link read, one sysctl read).
 */
import { FIREWALL_SYSCTLS } from './firewall.js';
import { hostNamespace } from '../host/names.js';
import { linkList, linkSet, netnsAdd, netnsDelete, sysctlGet, sysctlSet, type Link } from '../host/ip.js';

/**
 * Sysctls of a host namespace. Its links are pure L2 (bridge ports): without IPv6 on them the host
 * stack never speaks on tenant networks (no link-local addresses, router solicitations or MLD
 * reports from bridges and TAPs); bridged IPv6 between instances is unaffected.
 */
function wantedSysctls(ipv6Underlay: boolean): Record<string, string> {
  // An IPv6 underlay needs IPv6 on its link, so then only links created later go without it.
  // Bridged traffic must pass the inet hooks for the stateful firewall (see firewall.ts).
  return ipv6Underlay
    ? { 'net.ipv6.conf.default.disable_ipv6': '1', ...FIREWALL_SYSCTLS }
    : { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1', ...FIREWALL_SYSCTLS };
}

/**
 * Creates the host namespace when missing, brings `lo` up and sets its sysctls; appends what it
 * changed to `changes`. Returns the namespace's links as read (after `lo` is up).
 */
export async function ensureHostNamespace(host: string, changes: string[] = [], o: { readonly ipv6Underlay?: boolean } = {}): Promise<Link[]> {
  const ns = hostNamespace(host);
  if (await netnsAdd(ns)) changes.push(`created namespace ${ns}`);
  const links = await linkList(ns);
  const lo = links.find((l) => l.name === 'lo');
  if (lo && !lo.up) {
    await linkSet(ns, 'lo', { up: true });
    changes.push('set lo up');
  }
  const want = wantedSysctls(o.ipv6Underlay ?? false);
  const have = await sysctlGet(ns, Object.keys(want));
  const diff = Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
  if (Object.keys(diff).length) {
    await sysctlSet(ns, diff);
    changes.push(`set ${Object.entries(diff).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return links;
}

/**
 * Deletes a host namespace; every bridge, VXLAN device, TAP and veth in it goes with it (once no
 * process, e.g. a VM, still holds it). False when it did not exist.
 */
export async function removeHostNamespace(host: string): Promise<boolean> {
  return netnsDelete(hostNamespace(host));
}
