/**
 * Every configuration option of Nephos, typed, with its default and its documentation.
 * `nephos config show` and docs/configuration.md are generated from this one table.
 */
export type OptionType = 'string' | 'number' | 'boolean' | 'list';

/** One option: its type, default and a sentence that says what it does. */
export interface OptionDef {
  readonly type: OptionType;
  readonly default: string | number | boolean | readonly string[] | null;
  readonly doc: string;
  /** Masked in `nephos config show`. */
  readonly secret?: boolean;
}

const opt = <T extends OptionType, V extends OptionDef['default']>(type: T, def: V, doc: string, secret = false) => ({ type, default: def, doc, secret });

/** Sections, one per service plus the shared platform parts. */
export const optionTable = {
  platform: {
    state_dir: opt('string', '/var/lib/nephos', 'Directory holding the SQLite database, keys, logs and pid files.'),
    bind_host: opt('string', '127.0.0.1', 'Address every API listens on.'),
    public_host: opt('string', '127.0.0.1', 'Host name or address put in catalog URLs.'),
    log_level: opt('string', 'info', 'pino log level: trace, debug, info, warn, error.'),
    max_body_bytes: opt('number', 1048576, 'Largest JSON request body accepted (bytes); larger gets 413.'),
  },
  database: {
    url: opt('string', null, 'Database URL: sqlite:///path (default: <state_dir>/nephos.db), postgres://…, mysql://….', true),
  },
  bus: {
    url: opt('string', 'memory://', 'Message bus: memory:// (in-process) or amqp://user:pass@host:5672/vhost.', true),
  },
  identity: {
    port: opt('number', 5000, 'Port of the identity API.'),
    token_expiration: opt('number', 3600, 'Token lifetime in seconds.'),
    allow_expired_window: opt('number', 172800, 'Seconds after expiry during which ?allow_expired=1 still validates a token.'),
    key_repository: opt('string', null, 'Token key repository directory (default: <state_dir>/fernet-keys).'),
    max_active_keys: opt('number', 3, 'Keys kept by `nephos identity rotate-keys` (staged + primary + secondaries).'),
    password_hash_algorithm: opt('string', 'bcrypt', 'Password hash algorithm (bcrypt, as Keystone\'s default).'),
    password_hash_rounds: opt('number', 12, 'bcrypt cost factor (log2 rounds); Keystone\'s default is 12.'),
    admin_password: opt('string', null, 'Password of the bootstrap admin user (default: generated once, kept in <state_dir>/admin-password).', true),
    demo_password: opt('string', null, 'Password of the demo user (default: generated once, kept in <state_dir>/demo-password).', true),
    policy_file: opt('string', null, 'YAML or JSON file whose rules override the identity policy defaults.'),
    list_limit: opt('number', 0, 'Maximum entities a list returns (0: no limit); truncated lists set "truncated".'),
    cache_ttl_ms: opt('number', 2000, 'Lifetime of validation caches in a multi-process deployment (all-in-one invalidates at once).'),
    lockout_failure_attempts: opt('number', 5, 'Failed password attempts before a user is locked out (0 disables).'),
    lockout_duration: opt('number', 1800, 'Seconds a locked-out user stays locked.'),
    password_expires_days: opt('number', 0, 'Days a password stays valid (0: never expires).'),
    unique_last_password_count: opt('number', 2, 'A new password must differ from this many previous ones (1 disables history).'),
    minimum_password_age: opt('number', 0, 'Days before a user may change their own password again.'),
    password_regex: opt('string', null, 'Regular expression a new password must match.'),
    password_regex_description: opt('string', null, 'Human description of password_regex, shown when it fails.'),
    change_password_upon_first_use: opt('boolean', false, 'Users created or reset by an admin must change their password before use.'),
  },
  image: {
    port: opt('number', 9292, 'Port of the image API.'),
    data_dir: opt('string', null, 'Directory of the file store holding image data (default: <state_dir>/images).'),
    staging_dir: opt('string', null, 'Directory where interoperable import stages data (default: <state_dir>/image-staging).'),
    convert_to_raw: opt('boolean', false, 'glance-direct and web-download imports convert qcow2 images to raw with qemu-img.'),
    require_format_match: opt('boolean', true, 'Refuse uploads whose data does not match the declared disk_format (when false: log a warning).'),
    web_download_allowed_hosts: opt('list', [], 'Hosts the web-download import method may fetch from; empty disables web-download.'),
    image_member_quota: opt('number', 128, 'Members one image may have (-1: unlimited).'),
    image_property_quota: opt('number', 128, 'Extra properties one image may have (-1: unlimited).'),
    image_tag_quota: opt('number', 128, 'Tags one image may have (-1: unlimited).'),
    image_count_total: opt('number', -1, 'Images a project may own (-1: unlimited).'),
    image_size_total: opt('number', -1, 'Bytes of image data a project may store (-1: unlimited).'),
    image_stage_total: opt('number', -1, 'Bytes a project may have in the import staging area (-1: unlimited).'),
    image_count_uploading: opt('number', -1, 'Uploads and imports a project may run at once (-1: unlimited).'),
    policy_file: opt('string', null, 'YAML or JSON file whose rules override the image policy defaults.'),
    upload_guest: opt('boolean', true, 'The all-in-one uploads the nephos-guest images on first start when absent.'),
  },
  network: {
    port: opt('number', 9696, 'Port of the network API.'),
    host: opt('string', null, 'Name of this host for the network agent (default: the machine\'s hostname).'),
    global_physnet_mtu: opt('number', 1500, 'MTU of the underlying physical network (Neutron\'s global_physnet_mtu); flat networks get it.'),
    path_mtu: opt('number', 0, 'MTU of the underlay path carrying VXLAN (0: global_physnet_mtu); VXLAN networks get it minus 50.'),
    vni_ranges: opt('string', '1:65535', 'VXLAN VNI range(s) for project networks, "min:max[,min:max]".'),
    flat_networks: opt('list', ['public'], 'Physical network names flat networks may use (* for any).'),
    tenant_network_type: opt('string', 'vxlan', 'Type of networks projects create without provider attributes (vxlan or flat).'),
    dns_domain: opt('string', 'openstacklocal.', 'Domain of instance host names served by DHCP (Neutron\'s dns_domain).'),
    max_dns_nameservers: opt('number', 5, 'DNS servers one subnet may list.'),
    max_subnet_host_routes: opt('number', 20, 'Host routes one subnet may list.'),
    max_allowed_address_pair: opt('number', 10, 'Allowed address pairs one port may have.'),
    base_mac: opt('string', 'fa:16:3e:00:00:00', 'MAC prefix of generated port MACs (first three octets used).'),
    agent_enabled: opt('boolean', true, 'Run the network agent in this process (bridges, VXLAN, firewall, DHCP, routers on this host).'),
    agent_resync_interval: opt('number', 30, 'Seconds between the network agent\'s full resyncs (it also converges on every change).'),
    physical_interface_mappings: opt('list', [], 'Flat networks on real host interfaces, "physnet:interface" (Neutron\'s physical_interface_mappings): the agent moves each named interface into the host namespace and onto its flat network\'s bridge, and gives it back when the network goes. An interface holding addresses or routes of the machine is refused. Off by default; list the physnet in flat_networks too.'),
    underlay_device: opt('string', null, 'Multi-node: the link inside the host namespace carrying VXLAN to other hosts (none: single host).'),
    underlay_address: opt('string', null, 'Multi-node: this host\'s VTEP address on underlay_device.'),
    create_defaults: opt('boolean', true, 'The all-in-one creates the DevStack-like defaults on first start: external network public, private network and router1 in the demo project.'),
    public_cidr: opt('string', '203.0.113.0/24', 'Subnet of the default external network public (its first address is the public side\'s gateway).'),
    private_cidr: opt('string', '10.0.0.0/24', 'Subnet of the default private network of the demo project.'),
    public_namespace: opt('string', 'nephos-public', 'Namespace standing for the outside world of the external network (`nephos public-exec`).'),
    public_physical_network: opt('string', 'public', 'Physical network of the external network exposed in public_namespace.'),
    agent_down_time: opt('number', 75, 'Seconds without a heartbeat after which an agent is shown dead (Neutron\'s agent_down_time).'),
    quota_network: opt('number', 100, 'Default networks per project (-1: unlimited).'),
    quota_subnet: opt('number', 100, 'Default subnets per project (-1: unlimited).'),
    quota_port: opt('number', 500, 'Default ports per project (-1: unlimited).'),
    quota_router: opt('number', 10, 'Default routers per project (-1: unlimited).'),
    quota_floatingip: opt('number', 50, 'Default floating IPs per project (-1: unlimited).'),
    quota_security_group: opt('number', 10, 'Default security groups per project (-1: unlimited).'),
    quota_security_group_rule: opt('number', 100, 'Default security group rules per project (-1: unlimited).'),
    dhcp_lease_duration: opt('number', 86400, 'DHCP lease time in seconds (Neutron\'s dhcp_lease_duration).'),
    dhcp_dir: opt('string', null, 'Directory of this host\'s per-network dnsmasq/haproxy files (default: /run/nephos/<host>/dhcp; they run as nobody, so not under the private state_dir).'),
    metadata_upstream_url: opt('string', 'http://127.0.0.1:8775', 'Compute metadata service the metadata proxy forwards instance requests to.'),
    metadata_proxy_shared_secret: opt('string', null, 'Secret shared with the compute metadata service to sign X-Instance-ID (Neutron/Nova\'s metadata_proxy_shared_secret).', true),
    policy_file: opt('string', null, 'YAML or JSON file whose rules override the network policy defaults.'),
  },
  placement: {
    port: opt('number', 8778, 'Port of the placement API.'),
    policy_file: opt('string', null, 'YAML or JSON file whose rules override the placement policy defaults.'),
  },
  compute: {
    port: opt('number', 8774, 'Port of the compute API.'),
    metadata_port: opt('number', 8775, 'Port of the instance metadata service (reached by the network\'s metadata proxy).'),
    dhcp_domain: opt('string', 'novalocal', 'Domain of instance host names in metadata (Nova\'s dhcp_domain); empty: bare host names.'),
    metadata_cache_expiration: opt('number', 15, 'Seconds clients may cache metadata answers (Cache-Control max-age).'),
    vendordata_jsonfile_path: opt('string', null, 'JSON file served as vendor data (vendor_data.json and vendor_data2.json "static").'),
    force_config_drive: opt('boolean', false, 'Give every instance a config drive, asked for or not.'),
    host: opt('string', null, 'Name of this compute host (default: network.host, else the machine\'s hostname).'),
    driver: opt('string', 'qemu', 'Compute driver of this host: qemu (real VMs) or fake (simulated hosts, for scale work only).'),
    virt_type: opt('string', 'auto', 'qemu driver acceleration: kvm, qemu (TCG) or auto (KVM only when /dev/kvm exists and works).'),
    instances_dir: opt('string', null, 'Directory of instance disks, console logs, pid and QMP sockets (default: <state_dir>/instances).'),
    image_cache_dir: opt('string', null, 'Directory of cached base images (default: <state_dir>/instances/_base).'),
    agent_enabled: opt('boolean', true, 'Run the compute agent of this host in this process.'),
    shelved_offload_time: opt('number', 0, 'Seconds a shelved server keeps its host before it is offloaded (Nova\'s shelved_offload_time): 0 at once, -1 never.'),
    shutdown_timeout: opt('number', 60, 'Seconds a guest gets to power off after the ACPI power button before it is stopped hard (Nova\'s shutdown_timeout).'),
    fake_hosts: opt('number', 0, 'With driver fake: how many simulated hosts this process runs.'),
    cpu_allocation_ratio: opt('number', 4.0, 'VCPU overcommit reported to placement (Nova\'s initial_cpu_allocation_ratio).'),
    ram_allocation_ratio: opt('number', 1.0, 'Memory overcommit reported to placement.'),
    disk_allocation_ratio: opt('number', 1.0, 'Disk overcommit reported to placement.'),
    reserved_host_memory_mb: opt('number', 512, 'Memory (MiB) kept back from instances on each host.'),
    reserved_host_disk_mb: opt('number', 0, 'Disk (MiB) kept back from instances on each host.'),
    scheduler_weigher: opt('string', 'spread', 'How the scheduler ranks fitting hosts: spread (least used first) or stack (most used first).'),
    scheduler_max_attempts: opt('number', 3, 'Hosts tried for one instance before it goes to ERROR.'),
    resume_guests_state_on_host_boot: opt('boolean', false, 'Restart instances whose QEMU died instead of marking them SHUTOFF.'),
    service_down_time: opt('number', 60, 'Seconds without a heartbeat after which a compute service is shown down.'),
    create_defaults: opt('boolean', true, 'The all-in-one creates the standard flavors (m1.nano … m1.xlarge) on first start.'),
    quota_instances: opt('number', 10, 'Default instances per project (-1: unlimited).'),
    quota_cores: opt('number', 20, 'Default VCPUs per project (-1: unlimited).'),
    quota_ram: opt('number', 51200, 'Default memory (MiB) per project (-1: unlimited).'),
    quota_key_pairs: opt('number', 100, 'Default key pairs per user (-1: unlimited).'),
    quota_metadata_items: opt('number', 128, 'Default metadata items per instance (-1: unlimited).'),
    quota_server_groups: opt('number', 10, 'Default server groups per project (-1: unlimited).'),
    quota_server_group_members: opt('number', 10, 'Default members per server group (-1: unlimited).'),
    policy_file: opt('string', null, 'YAML or JSON file whose rules override the compute policy defaults.'),
  },
} as const satisfies Record<string, Record<string, OptionDef>>;

export type OptionTable = typeof optionTable;
export type SectionName = keyof OptionTable;
