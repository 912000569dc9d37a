/**
 * Every host object name the network agent uses, computed from ids alone, so that reconciling and
 * cleaning up is exact: a name says which host, network, port or router made it. Link names stay
 * within the kernel's 15 characters (IFNAMSIZ - 1) and follow Neutron's linuxbridge habits
 * (`brq…`, `tap…`, `ns-…`, `qr-…`, `qg-…`), so operators recognise them.
 */

/** Longest interface name the kernel accepts. */
export const MAX_LINK_NAME = 15;

/** How many characters of an id a prefixed link name keeps (as Neutron does). */
const ID_CHARS = 11;

/** The namespace that holds the `public` client end (`nephos public-exec` runs in it). */
export const PUBLIC_NAMESPACE = 'nephos-public';

/** Link prefixes the L2 reconciler owns inside a host namespace (anything else there it leaves alone). */
export const BRIDGE_PREFIX = 'brq';
export const VXLAN_PREFIX = 'vxlan-';
export const TAP_PREFIX = 'tap';

// A host name becomes part of namespace names and file paths: keep it to a safe alphabet.
const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// Ids become parts of link and namespace names: hex UUIDs in practice, never `/` or spaces.
const ID_RE = /^[A-Za-z0-9-]+$/;

function checkHost(host: string): string {
  if (!HOST_RE.test(host)) throw new Error(`invalid host name for a namespace: ${JSON.stringify(host)}`);
  return host;
}

function short(id: string): string {
  if (!ID_RE.test(id)) throw new Error(`invalid id for a host object name: ${JSON.stringify(id)}`);
  return id.slice(0, ID_CHARS);
}

/** The namespace holding a host's bridges, VXLAN devices and instance TAPs: `nephos-<host>`. */
export function hostNamespace(host: string): string {
  return `nephos-${checkHost(host)}`;
}

/** A network's DHCP namespace on a host: `nephos-<host>-dhcp-<netid>`. */
export function dhcpNamespace(host: string, networkId: string): string {
  short(networkId);
  return `${hostNamespace(host)}-dhcp-${networkId}`;
}

/** A router's namespace on a host: `nephos-<host>-router-<routerid>`. */
export function routerNamespace(host: string, routerId: string): string {
  short(routerId);
  return `${hostNamespace(host)}-router-${routerId}`;
}

/**
 * Whether a namespace belongs to `host`: its host namespace or one of its DHCP/router namespaces.
 * Exact by structure, so host `a` never claims `nephos-ab`.
 */
export function isNamespaceOfHost(host: string, namespace: string): boolean {
  const base = hostNamespace(host);
  return namespace === base || namespace.startsWith(`${base}-dhcp-`) || namespace.startsWith(`${base}-router-`);
}

/** A network's bridge: `brq<netid[0:11]>`. */
export function bridgeName(networkId: string): string {
  return `${BRIDGE_PREFIX}${short(networkId)}`;
}

/** A VXLAN network's device, by VNI: `vxlan-<vni>` (a host has one per VNI). */
export function vxlanName(vni: number): string {
  if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff) throw new Error(`invalid VXLAN VNI: ${vni}`);
  return `${VXLAN_PREFIX}${vni}`;
}

/** A port's host-side link on its network's bridge (instance TAP, or the host end of a DHCP/router veth): `tap<portid[0:11]>`. */
export function tapName(portId: string): string {
  return `${TAP_PREFIX}${short(portId)}`;
}

/** A DHCP port's interface inside its DHCP namespace: `ns-<portid[0:11]>`. */
export function dhcpInterfaceName(portId: string): string {
  return `ns-${short(portId)}`;
}

/** A router's tenant-side interface inside its namespace: `qr-<portid[0:11]>`. */
export function routerInterfaceName(portId: string): string {
  return `qr-${short(portId)}`;
}

/** A router's gateway interface on the external network, inside its namespace: `qg-<portid[0:11]>`. */
export function gatewayInterfaceName(portId: string): string {
  return `qg-${short(portId)}`;
}

/** Host-side end (on the external network's bridge) of the `public` client namespace's veth: `pub<netid[0:11]>`. */
export function publicHostLinkName(networkId: string): string {
  return `pub${short(networkId)}`;
}

/** The `public` client's interface inside `nephos-public` (holds 203.0.113.1/24). */
export const PUBLIC_CLIENT_LINK = 'pub0';
