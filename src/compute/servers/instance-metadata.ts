/**
 * An instance as its metadata documents describe it (metadata/model.ts), assembled from its
 * record and its ports, subnets and floating IPs in the network service. Used by the metadata
 * service (per request) and for config drives (at build).
 */
import type { InstanceMetadata, MetadataPort, MetadataSubnet } from '../metadata/model.js';
import type { NetworkClient } from '../clients/network.js';
import type { Instance } from './store.js';

/** A stable 32-bit number for an image uuid (the EC2 `ami-%08x` id; Nova keeps a mapping table instead). */
const ec2Number = (uuid: string | undefined): number | null => (uuid && /^[0-9a-f]{8}/i.test(uuid) ? parseInt(uuid.slice(0, 8), 16) : null);

export async function instanceMetadata(i: Instance, network: NetworkClient, o: { readonly vendorData?: Readonly<Record<string, unknown>> } = {}): Promise<InstanceMetadata> {
  const ports = await network.ports({ device_id: i.uuid });
  const subnets = new Map((await network.subnets([...new Set(ports.flatMap((p) => p.fixed_ips.map((f) => f.subnet_id)))])).map((s) => [s.id, s]));
  const networkIds = [...new Set(ports.map((p) => p.network_id))];
  const dhcpServers = new Map<string, string>();
  const mtus = new Map<string, number>();
  for (const n of networkIds) {
    for (const d of await network.ports({ network_id: n, device_owner: 'network:dhcp' })) for (const f of d.fixed_ips) dhcpServers.set(f.subnet_id, f.ip_address);
    const net = await network.network(n);
    if (net) mtus.set(n, net.mtu);
  }
  const mdPorts: MetadataPort[] = [];
  for (const p of [...ports].sort((a, b) => i.body.ports.findIndex((x) => x.id === a.id) - i.body.ports.findIndex((x) => x.id === b.id))) {
    const fips = await network.floatingIps(p.id);
    mdPorts.push({
      id: p.id, networkId: p.network_id, macAddress: p.mac_address, mtu: mtus.get(p.network_id) ?? null, vifType: 'bridge',
      fixedIps: p.fixed_ips.flatMap((f) => {
        const s = subnets.get(f.subnet_id);
        if (!s) return [];
        const subnet: MetadataSubnet = {
          id: s.id, ipVersion: s.ip_version, cidr: s.cidr, gatewayIp: s.gateway_ip, dnsNameservers: s.dns_nameservers, hostRoutes: s.host_routes,
          enableDhcp: s.enable_dhcp, dhcpServer: dhcpServers.get(s.id) ?? null, ipv6AddressMode: s.ipv6_address_mode ?? null,
        };
        return [{ ipAddress: f.ip_address, subnet, floatingIps: fips.filter((x) => x.fixed_ip_address === f.ip_address).map((x) => x.floating_ip_address) }];
      }),
    });
  }
  const props = i.body.image.properties;
  return {
    uuid: i.uuid, name: i.display_name, hostname: i.body.hostname, projectId: i.project_id, availabilityZone: i.availability_zone,
    launchIndex: i.launch_index, reservationId: i.reservation_id, flavorName: i.body.flavor.name,
    ec2Ids: { instance: i.id, image: ec2Number(i.body.image.id), kernel: ec2Number(props.kernel_id), ramdisk: ec2Number(props.ramdisk_id) },
    keyPairs: i.key_name && i.body.key_data ? [{ name: i.key_name, type: i.body.key_type ?? 'ssh', data: i.body.key_data }] : [],
    userData: i.body.user_data, meta: i.body.metadata, devices: [], dedicatedCpus: [], vendorData: o.vendorData ?? {},
    ports: mdPorts, securityGroups: i.body.security_groups, rootDeviceName: '/dev/vda',
  };
}
