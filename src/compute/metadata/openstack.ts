/**
 * The OpenStack-format documents (`/openstack/<version>/…`): meta_data.json, network_data.json,
 * vendor_data.json, vendor_data2.json and the per-version listing, with the keys each dated version
 * has, as Nova serves them.
 */
import { randomBytes } from 'node:crypto';
import { formatIp, mask, parseCidr } from '../../network/ipam/addr.js';
import { shownHostname, type DocumentOptions } from './document-options.js';
import type { InstanceMetadata, MetadataDevice, MetadataPort, MetadataSubnet } from './model.js';
import { EPOXY, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY, VICTORIA, osAtLeast } from './versions.js';

export const META_DATA = 'meta_data.json';
export const USER_DATA = 'user_data';
export const PASSWORD = 'password';
export const VENDOR_DATA = 'vendor_data.json';
export const VENDOR_DATA2 = 'vendor_data2.json';
export const NETWORK_DATA = 'network_data.json';

/** What only the config drive adds to meta_data.json (Nova's `extra_md` and injected files). */
export interface ConfigDriveExtras {
  readonly adminPass?: string | null;
  /** Injected files: their guest path and where their content lies under `openstack/`. */
  readonly files?: readonly { readonly path: string; readonly content_path: string }[];
}

/** The names `/openstack/<version>` lists (dated version). */
export function versionListing(md: InstanceMetadata, version: string): string[] {
  const names = [META_DATA];
  if (md.userData !== null) names.push(USER_DATA);
  if (osAtLeast(version, GRIZZLY)) names.push(PASSWORD);
  if (osAtLeast(version, HAVANA)) names.push(VENDOR_DATA);
  if (osAtLeast(version, LIBERTY)) names.push(NETWORK_DATA);
  if (osAtLeast(version, NEWTON_TWO)) names.push(VENDOR_DATA2);
  return names;
}

/** meta_data.json of a dated version; `random_seed` is 512 fresh random bytes on every call. */
export function metaData(md: InstanceMetadata, version: string, o: DocumentOptions = {}, extras: ConfigDriveExtras = {}): Record<string, unknown> {
  const doc: Record<string, unknown> = { uuid: md.uuid };
  if (Object.keys(md.meta).length) doc.meta = { ...md.meta };
  if (extras.files?.length) doc.files = extras.files.map((f) => ({ path: f.path, content_path: f.content_path }));
  if (extras.adminPass) doc.admin_pass = extras.adminPass;
  const key = md.keyPairs[0];
  if (key) {
    doc.public_keys = { [key.name]: key.data };
    doc.keys = [{ name: key.name, type: key.type, data: key.data }];
  }
  doc.hostname = shownHostname(md, o);
  doc.name = md.name;
  doc.launch_index = md.launchIndex;
  doc.availability_zone = md.availabilityZone;
  if (osAtLeast(version, GRIZZLY)) doc.random_seed = randomBytes(512).toString('base64');
  if (osAtLeast(version, LIBERTY)) doc.project_id = md.projectId;
  if (osAtLeast(version, NEWTON_ONE)) doc.devices = devices(md.devices, version);
  if (osAtLeast(version, VICTORIA)) doc.dedicated_cpus = [...md.dedicatedCpus].sort((a, b) => a - b);
  return doc;
}

/** The `devices` list: what each device shows at this version; NICs without anything to say are left out. */
function devices(list: readonly MetadataDevice[], version: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const d of list) {
    const shown: Record<string, unknown> = {};
    if (d.type === 'nic') {
      if (osAtLeast(version, OCATA) && d.vlan !== undefined) shown.vlan = d.vlan;
      if (osAtLeast(version, ROCKY)) shown.vf_trusted = d.vfTrusted ?? false;
      shown.type = 'nic';
      shown.mac = d.mac;
      if (!d.tags && !('vlan' in shown) && !('vf_trusted' in shown)) continue;
    } else if (d.type === 'disk') {
      shown.type = 'disk';
      if (d.serial !== undefined) shown.serial = d.serial;
      if (d.path !== undefined) shown.path = d.path;
    } else if (d.type === 'share' && osAtLeast(version, EPOXY)) {
      shown.type = 'share';
      shown.share_id = d.shareId;
      shown.tag = d.tag;
    } else {
      continue;
    }
    shown.bus = d.bus;
    shown.address = d.address ?? 'none';
    if (d.type !== 'share' && d.tags) shown.tags = [...d.tags];
    out.push(shown);
  }
  return out;
}

/** vendor_data.json (the static vendor data). */
export const vendorData = (md: InstanceMetadata): Record<string, unknown> => ({ ...md.vendorData });

/** vendor_data2.json: each provider's data under its name (`static` here). */
export const vendorData2 = (md: InstanceMetadata): Record<string, unknown> => ({ static: { ...md.vendorData } });

// Link types Nova shows as they are; anything else is a physical NIC (`phy`).
const EXPOSED_VIF_TYPES = new Set(['bridge', 'dvs', 'hw_veb', 'hyperv', 'ovs', 'tap', 'vhostuser', 'vif']);

/** The host-side device name Nova gives a port (`tap` + the id, 14 characters in all). */
export const devName = (portId: string): string => `tap${portId}`.slice(0, 14);

interface SubnetIps { readonly subnet: MetadataSubnet; readonly ips: string[] }

/** The port's subnets in the order of its fixed IPs, each with its addresses. */
function subnetsOf(port: MetadataPort): SubnetIps[] {
  const by = new Map<string, SubnetIps>();
  for (const f of port.fixedIps) {
    const s = by.get(f.subnet.id) ?? { subnet: f.subnet, ips: [] };
    s.ips.push(f.ipAddress);
    by.set(f.subnet.id, s);
  }
  return [...by.values()];
}

const netmaskOf = (version: 4 | 6, prefix: number): string => formatIp(version, mask(version, prefix));

function dnsServices(subnet: MetadataSubnet): { type: 'dns'; address: string }[] {
  return subnet.dnsNameservers.map((address) => ({ type: 'dns' as const, address }));
}

function networkEntry(port: MetadataPort, s: SubnetIps, num: number, link: string): Record<string, unknown> {
  const v = s.subnet.ipVersion;
  const id = `network${num}`;
  let type = `ipv${v}`;
  if (s.subnet.ipv6AddressMode) type = `ipv${v}_${s.subnet.ipv6AddressMode}`;
  else if (s.subnet.dhcpServer !== null || s.subnet.enableDhcp) return { id, type: `ipv${v}_dhcp`, link, network_id: port.networkId };
  const cidr = parseCidr(s.subnet.cidr);
  const routes: Record<string, string>[] = [];
  if (s.subnet.gatewayIp) routes.push({ network: v === 4 ? '0.0.0.0' : '::', netmask: v === 4 ? '0.0.0.0' : '::', gateway: s.subnet.gatewayIp });
  for (const r of s.subnet.hostRoutes) {
    const dst = parseCidr(r.destination);
    if (!dst) continue;
    routes.push({ network: formatIp(dst.version, dst.network & mask(dst.version, dst.prefix)), netmask: netmaskOf(dst.version, dst.prefix), gateway: r.nexthop });
  }
  return {
    id, type, link, ip_address: s.ips[0], netmask: cidr ? netmaskOf(v, cidr.prefix) : null, routes,
    network_id: port.networkId, services: dnsServices(s.subnet),
  };
}

/**
 * network_data.json: one link per port (its TAP name, MAC, MTU), one network per port for its first
 * IPv4 and its first IPv6 subnet (DHCP, SLAAC/DHCPv6 or static with routes and DNS), and the DNS
 * servers as services. `{}` for an instance without ports, as Nova.
 */
export function networkData(md: InstanceMetadata): Record<string, unknown> {
  if (md.ports.length === 0) return {};
  const links: Record<string, unknown>[] = [];
  const networks: Record<string, unknown>[] = [];
  const services: { type: 'dns'; address: string }[] = [];
  let netNum = -1;
  for (const port of md.ports) {
    const subnets = subnetsOf(port);
    if (subnets.length === 0) continue;
    const link = devName(port.id);
    const vifType = port.vifType ?? 'tap';
    links.push({
      id: link, vif_id: port.id, type: EXPOSED_VIF_TYPES.has(vifType) ? vifType : 'phy',
      mtu: subnets.some((s) => s.subnet.dhcpServer !== null) ? null : port.mtu,
      ethernet_mac_address: port.macAddress,
    });
    for (const version of [4, 6] as const) {
      const s = subnets.find((x) => x.subnet.ipVersion === version);
      if (!s) continue;
      networks.push(networkEntry(port, s, ++netNum, link));
      for (const svc of dnsServices(s.subnet)) if (!services.some((x) => x.address === svc.address)) services.push(svc);
    }
  }
  return { links, networks, services };
}
