/**
 * The public client namespace (`nephos-public` by default): the outside world of the external
 * network `public`, like DevStack's br-ex. It holds the external subnet's gateway address on a
 * veth plugged into that network's bridge, so users and tests reach floating IPs with
 * `nephos public-exec -- <cmd>` and tenant traffic leaving through SNAT has somewhere to go —
 * all without touching the machine's own namespace or uplink.
 */
import type { DesiredHostState } from './desired.js';
import { addrAdd, addrList, linkAddVeth, linkDelete, linkGet, linkList, linkSet, netnsAdd, netnsDelete } from '../host/ip.js';
import { PUBLIC_CLIENT_LINK, bridgeName, hostNamespace, publicHostLinkName } from '../host/names.js';
import type { StepResult } from './agent.js';

/** Prefix of the host-side ends of public veths (`publicHostLinkName`). */
const PUBLIC_HOST_PREFIX = 'pub';

export interface PublicOptions {
  /** Namespace of the public side (tests use their own). */
  readonly namespace: string;
  /** Physical network name of the external network to expose (flat). */
  readonly physicalNetwork: string;
}

/** Converges the public client namespace onto the external network the routers' gateways use. */
export async function convergePublic(desired: DesiredHostState, o: PublicOptions): Promise<StepResult> {
  const changes: string[] = [];
  const net = desired.networks.find((n) => n.type === 'flat' && n.physicalNetwork === o.physicalNetwork);
  const gw = net ? desired.routers.map((r) => r.gateway).find((g) => g && g.port.networkId === net.id && g.gatewayIp) : undefined;
  const hostNs = hostNamespace(desired.host);
  const hostEnd = net && gw ? publicHostLinkName(net.id) : null;
  // The veth of an external network this host no longer carries goes (its bridge went with the
  // last gateway); the namespace itself stays, like the host namespace, as this host's outside.
  for (const l of await linkList(hostNs)) {
    if (l.name.startsWith(PUBLIC_HOST_PREFIX) && l.name !== hostEnd && await linkDelete(hostNs, l.name)) changes.push(`deleted ${l.name}`);
  }
  if (!net || !gw || !hostEnd) return { changes, errors: [] };
  const prefix = gw.cidrs.find((c) => !c.includes(':'))?.split('/')[1] ?? '24';
  const cidr = `${gw.gatewayIp}/${prefix}`;
  if (await netnsAdd(o.namespace)) {
    changes.push(`created ${o.namespace}`);
    await linkSet(o.namespace, 'lo', { up: true });
  }
  if (!(await linkGet(o.namespace, PUBLIC_CLIENT_LINK))) {
    await linkAddVeth(o.namespace, PUBLIC_CLIENT_LINK, { name: hostEnd, netns: hostNs, mtu: net.mtu }, { mtu: net.mtu });
    changes.push(`created ${PUBLIC_CLIENT_LINK}`);
  }
  await linkSet(o.namespace, PUBLIC_CLIENT_LINK, { up: true, mtu: net.mtu });
  const host = await linkGet(hostNs, hostEnd);
  if (host && (host.master !== bridgeName(net.id) || !host.up)) await linkSet(hostNs, hostEnd, { master: bridgeName(net.id), up: true, mtu: net.mtu });
  if (!(await addrList(o.namespace, PUBLIC_CLIENT_LINK)).some((a) => a.cidr === cidr)) {
    await addrAdd(o.namespace, PUBLIC_CLIENT_LINK, cidr);
    changes.push(`${o.namespace}: ${cidr}`);
  }
  return { changes, errors: [] };
}

/** Removes the public client namespace (cleanup of a test or `nephos network cleanup`). */
export const removePublic = (namespace: string): Promise<boolean> => netnsDelete(namespace);
