/**
 * Network MTU from the underlay's, as Neutron computes it from `global_physnet_mtu`/`path_mtu`:
 * a VXLAN frame carries outer IP + UDP + VXLAN + inner Ethernet headers, so the tenant MTU is the
 * underlay's minus that overhead (1500 → 1450 and 1400 → 1350 over IPv4).
 */

/** Bytes a VXLAN encapsulation adds: outer IPv4 20 (IPv6 40) + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export function vxlanOverhead(underlayFamily: 4 | 6 = 4): number {
  return (underlayFamily === 6 ? 40 : 20) + 8 + 8 + 14;
}

/** The MTU a network of `type` gets over an underlay of MTU `underlayMtu`. */
export function networkMtu(underlayMtu: number, type: 'flat' | 'vxlan', underlayFamily: 4 | 6 = 4): number {
  if (!Number.isInteger(underlayMtu) || underlayMtu < 68) throw new Error(`invalid underlay MTU: ${underlayMtu}`);
  return type === 'vxlan' ? underlayMtu - vxlanOverhead(underlayFamily) : underlayMtu;
}
