/**
 * What the metadata service and the config drive know about one instance: everything the servers
 * code can fill from its own records (instance, flavor, key pair, block devices, EC2 id mappings)
 * and from the instance's Neutron ports (with their subnets, DHCP ports and floating IPs). The
 * document builders are pure functions of this value; nothing here reads a database.
 */

/** A key pair as the instance was booted with it (Nova copies it into the instance record). */
export interface MetadataKeyPair {
  readonly name: string;
  /** `ssh` or `x509` (Nova's key pair types). */
  readonly type: string;
  /** The public key text (OpenSSH format for `ssh`). */
  readonly data: string;
}

/** A subnet one of the instance's fixed IPs is on. */
export interface MetadataSubnet {
  readonly id: string;
  readonly ipVersion: 4 | 6;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly dnsNameservers: readonly string[];
  readonly hostRoutes: readonly { readonly destination: string; readonly nexthop: string }[];
  readonly enableDhcp: boolean;
  /**
   * Address of the network's DHCP port (device_owner `network:dhcp`) on this subnet, when one
   * exists. As in Nova, a link whose subnets have a DHCP server gets `mtu: null` in
   * network_data.json: the guest learns the MTU from DHCP.
   */
  readonly dhcpServer: string | null;
  /** Neutron's `ipv6_address_mode` (`slaac`, `dhcpv6-stateful`, `dhcpv6-stateless`), or null. */
  readonly ipv6AddressMode: string | null;
}

/** One fixed IP of a port, with its subnet and the floating IPs associated with it. */
export interface MetadataFixedIp {
  readonly ipAddress: string;
  readonly subnet: MetadataSubnet;
  readonly floatingIps: readonly string[];
}

/** One Neutron port of the instance, in the order of the instance's interfaces. */
export interface MetadataPort {
  readonly id: string;
  readonly networkId: string;
  readonly macAddress: string;
  /** The network's MTU. */
  readonly mtu: number | null;
  /** The port's `binding:vif_type` (Nephos binds `tap`); Nova shows it as the link type. */
  readonly vifType?: string;
  readonly fixedIps: readonly MetadataFixedIp[];
}

/** A device bus as Nova reports it (`none` when the driver does not know). */
export type MetadataBus = 'pci' | 'usb' | 'scsi' | 'ide' | 'xen' | 'none';

/**
 * A device the compute driver reported metadata for (Nova only records tagged devices, NICs with
 * a VLAN or a trusted VF, and shares).
 */
export type MetadataDevice =
  | {
    readonly type: 'nic'; readonly bus: MetadataBus; readonly address: string | null; readonly mac: string;
    readonly tags?: readonly string[]; readonly vlan?: number; readonly vfTrusted?: boolean;
  }
  | {
    readonly type: 'disk'; readonly bus: MetadataBus; readonly address: string | null;
    readonly serial?: string; readonly path?: string; readonly tags?: readonly string[];
  }
  | {
    readonly type: 'share'; readonly bus: MetadataBus; readonly address: string | null;
    readonly shareId: string; readonly tag: string;
  };

/** A block device mapping of the instance, for the EC2 `block-device-mapping/` tree. */
export interface MetadataBlockDevice {
  readonly deviceName: string | null;
  readonly sourceType: 'image' | 'blank' | 'volume' | 'snapshot';
  readonly destinationType: 'local' | 'volume';
  /** `swap` marks a swap disk among the blank local ones. */
  readonly guestFormat?: string | null;
}

/**
 * The EC2-style integer ids (Nova's `ec2_instance_mappings` and `s3_images` rows); the documents
 * show them as `i-%08x`, `ami-%08x`, `aki-%08x`, `ari-%08x`.
 */
export interface MetadataEc2Ids {
  readonly instance: number;
  /** null when the instance was not booted from an image (boot from volume). */
  readonly image: number | null;
  readonly kernel: number | null;
  readonly ramdisk: number | null;
}

/** A file injected at boot (server create `personality`): config drive only, as in Nova. */
export interface MetadataFile {
  readonly path: string;
  /** The file's contents, base64 as the API received them. */
  readonly contents: string;
}

/** Everything about one instance that its metadata documents show. */
export interface InstanceMetadata {
  readonly uuid: string;
  /** The server's display name. */
  readonly name: string;
  /** The instance's hostname (the service appends `dhcpDomain`, as Nova does with `dhcp_domain`). */
  readonly hostname: string;
  readonly projectId: string;
  readonly availabilityZone: string | null;
  readonly launchIndex: number;
  /** `r-xxxxxxxx`, shared by the instances of one create request. */
  readonly reservationId: string;
  readonly flavorName: string;
  readonly ec2Ids: MetadataEc2Ids;
  /** The key pair of the instance (Nova uses the first one). */
  readonly keyPairs: readonly MetadataKeyPair[];
  /** User data, base64 as stored by the API; null when the instance has none. */
  readonly userData: string | null;
  /** Server metadata (`openstack server set --property`). */
  readonly meta: Readonly<Record<string, string>>;
  readonly devices: readonly MetadataDevice[];
  /** Host CPUs pinned to the instance (a flavor with `hw:cpu_policy=dedicated`); empty otherwise. */
  readonly dedicatedCpus: readonly number[];
  /** The deployment's static vendor data (Nova's StaticJSON provider; `{}` when none is configured). */
  readonly vendorData: Readonly<Record<string, unknown>>;
  readonly ports: readonly MetadataPort[];
  /** Names of the instance's security groups. */
  readonly securityGroups: readonly string[];
  /** Root device, e.g. `/dev/vda`; null lets the EC2 tree show Nova's defaults. */
  readonly rootDeviceName: string | null;
  readonly defaultEphemeralDevice?: string | null;
  readonly defaultSwapDevice?: string | null;
  readonly blockDevices?: readonly MetadataBlockDevice[];
  /**
   * The encrypted password the guest posted (`nova get-password`), served at
   * `/openstack/<version>/password`; null when none was set.
   */
  readonly password?: string | null;
  /** The admin password of the create request: written only into the config drive's meta_data.json. */
  readonly adminPass?: string | null;
  /** Injected files: written only into the config drive. */
  readonly files?: readonly MetadataFile[];
}
