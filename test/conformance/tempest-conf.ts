import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An OpenStack service tempest can test; the runner takes one at a time. */
export type TempestService = 'identity' | 'image' | 'network' | 'compute' | 'volume' | 'object-storage';

/** Everything needed to describe a cloud to tempest. */
export interface TempestConfOptions {
  /** The service under test; its feature group gets the defaults below. */
  service: TempestService;
  /** Other services that are also available (e.g. compute needs image and network). */
  alsoAvailable?: readonly TempestService[];
  /** Tempest workspace directory (logs and locks go inside it). */
  workspace: string;
  /** Keystone v3 base URL, e.g. http://127.0.0.1:5000/v3 */
  identityUri: string;
  admin: { username: string; password: string; projectName: string; domainName: string };
  region?: string;
  /** Overrides for the service's `<service>-feature-enabled` options. */
  features?: Readonly<Record<string, boolean>>;
  /**
   * What the cloud's network service offers, read from the running cloud (see cloud-probe.ts).
   * Used only when neutron is available. Without `apiExtensions` tempest's default (`all`)
   * stands, which claims every extension: the runner always passes the cloud's own list.
   */
  network?: NetworkFacts;
  /** Extra options merged last, by section. */
  extra?: Readonly<Record<string, Readonly<Record<string, string | number | boolean>>>>;
}

/** The network facts tempest.conf needs; see {@link TempestConfOptions.network}. */
export interface NetworkFacts {
  /** `[network] public_network_id`: the external network for router gateways and floating IPs. */
  publicNetworkId?: string;
  /** `[network] floating_network_name` (read by compute and scenario tests). */
  floatingNetworkName?: string;
  /** `[network-feature-enabled] api_extensions`: exactly the aliases `GET /v2.0/extensions` lists. */
  apiExtensions?: readonly string[];
}

type Ini = Record<string, Record<string, string | number | boolean>>;

/** `[service_available]` flag per service; identity is always assumed by tempest. */
const AVAILABILITY_FLAG: Record<TempestService, string | undefined> = {
  identity: undefined,
  image: 'glance',
  network: 'neutron',
  compute: 'nova',
  volume: 'cinder',
  'object-storage': 'swift',
};

const ALL_FLAGS = ['cinder', 'neutron', 'glance', 'swift', 'nova', 'horizon'];

/** Feature defaults per service for a Nephos cloud. */
const FEATURE_DEFAULTS: Record<TempestService, Record<string, boolean>> = {
  identity: {
    api_v2: false,
    api_v2_admin: false,
    api_v3: true,
    security_compliance: true,
    trust: true,
    application_credentials: true,
    access_rules: true,
    project_tags: true,
    domain_specific_drivers: true,
  },
  // Import (glance-direct) and the os_glance_ reserved namespace are implemented; multiple
  // locations (needs an http store) and caching are not.
  image: {
    api_v1: false,
    api_v2: true,
    import_image: true,
    os_glance_reserved: true,
    manage_locations: false,
  },
  // ipv6_subnet_attributes: the API validates ipv6_ra_mode/ipv6_address_mode and gives SLAAC and
  // DHCPv6-stateless ports their EUI-64 address (16 tests; tempest's default is off).
  network: {
    ipv6: true,
    ipv6_subnet_attributes: true,
    port_admin_state_change: true,
    floating_ips: true,
  },
  // Nephos compute: no migrations, no remote consoles, no volume-backed operations, no legacy
  // proxies, no password injection; unified limits are not used (the DB quota driver is). The
  // server actions the QEMU driver performs are on.
  compute: {
    live_migration: false,
    cold_migration: false,
    resize: true,
    pause: true,
    suspend: true,
    shelve: true,
    shelve_migrate: false,
    rescue: true,
    stable_rescue: false,
    snapshot: true,
    console_output: true,
    interface_attach: true,
    config_drive: true,
    change_password: false,
    vnc_console: false,
    spice_console: false,
    rdp_console: false,
    serial_console: false,
    swap_volume: false,
    volume_multiattach: false,
    volume_backed_live_migration: false,
    block_migration_for_live_migration: false,
    personality: false,
    nova_cert: false,
    xenapi_apis: false,
    unified_limits: false,
  },
  volume: {},
  'object-storage': {},
};

/**
 * Other sections per service under test. Image: tempest 33 uploads random bytes labelled with
 * the first configured disk formats; Nephos inspects uploads and refuses data that is not what
 * its disk_format says (random bytes are not a VHD), so only formats whose data may be arbitrary
 * bytes are listed.
 */
const SERVICE_SECTIONS: Partial<Record<TempestService, Ini>> = {
  image: { image: { disk_formats: 'raw,ami,ari,aki', build_timeout: 60 } },
  // The microversion range the compute API advertises (tempest picks its versioned tests by it).
  // Servers are not logged into (run_validation): tempest's process cannot reach the cloud's
  // namespaces; the CLI suites show SSH through a floating IP.
  compute: { compute: { min_microversion: '2.1', max_microversion: '2.90', build_timeout: 120 }, validation: { run_validation: false } },
};

/**
 * `[network]` and `[network-feature-enabled]` for a cloud with a network service, whichever suite
 * runs (compute and scenario tests read them too). Project subnets are carved from tempest's own
 * default blocks; they exist only inside the cloud's namespaces.
 */
function networkSections(facts: NetworkFacts = {}): Ini {
  const network: Ini[string] = {
    project_network_cidr: '10.100.0.0/16',
    project_network_mask_bits: 28,
    project_network_v6_cidr: '2001:db8::/48',
    project_network_v6_mask_bits: 64,
  };
  if (facts.publicNetworkId) network.public_network_id = facts.publicNetworkId;
  if (facts.floatingNetworkName) network.floating_network_name = facts.floatingNetworkName;
  const features: Ini[string] = { ...FEATURE_DEFAULTS.network };
  if (facts.apiExtensions) {
    const bad = facts.apiExtensions.find((a) => !/^[A-Za-z0-9_:.-]+$/.test(a));
    if (bad !== undefined) throw new Error(`network extension alias "${bad}" cannot be written to api_extensions`);
    features.port_security = facts.apiExtensions.includes('port-security');
    // An empty list is meaningful: tempest then treats every extension as disabled.
    features.api_extensions = facts.apiExtensions.join(',');
  }
  return { network, 'network-feature-enabled': features };
}

/** Builds the tempest.conf sections for a cloud (pure; see {@link writeTempestConf}). */
export function tempestConfSections(opts: TempestConfOptions): Ini {
  const available = new Set([opts.service, ...(opts.alsoAvailable ?? [])].map((s) => AVAILABILITY_FLAG[s]));
  const serviceAvailable: Record<string, boolean> = {};
  for (const flag of ALL_FLAGS) serviceAvailable[flag] = available.has(flag);

  const ini: Ini = {
    DEFAULT: { log_file: 'tempest.log', log_dir: join(opts.workspace, 'logs') },
    auth: {
      use_dynamic_credentials: true,
      create_isolated_networks: available.has('neutron'),
      admin_username: opts.admin.username,
      admin_password: opts.admin.password,
      admin_project_name: opts.admin.projectName,
      admin_domain_name: opts.admin.domainName,
    },
    identity: {
      uri_v3: opts.identityUri,
      auth_version: 'v3',
      region: opts.region ?? 'RegionOne',
      v3_endpoint_type: 'public',
    },
    'identity-feature-enabled': {},
    oslo_concurrency: { lock_path: join(opts.workspace, 'tempest_lock') },
    service_available: serviceAvailable,
  };
  if (available.has('neutron')) Object.assign(ini, networkSections(opts.network));
  const featureGroup = `${opts.service}-feature-enabled`;
  ini[featureGroup] = { ...ini[featureGroup], ...FEATURE_DEFAULTS[opts.service], ...(opts.features ?? {}) };
  for (const [section, values] of Object.entries(SERVICE_SECTIONS[opts.service] ?? {})) ini[section] = { ...ini[section], ...values };
  for (const [section, values] of Object.entries(opts.extra ?? {})) ini[section] = { ...ini[section], ...values };
  return ini;
}

/** Renders sections as INI text. */
export function renderIni(ini: Ini): string {
  const out: string[] = [];
  for (const [section, values] of Object.entries(ini)) {
    out.push(`[${section}]`);
    for (const [key, value] of Object.entries(values)) {
      const text = String(value);
      if (/[\r\n]/.test(text)) throw new Error(`tempest.conf value for ${section}.${key} contains a newline`);
      out.push(`${key} = ${text}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * Writes a tempest.conf for the cloud to `path` (usually `<workspace>/etc/tempest.conf`) and
 * returns its text. Every service but the ones under test is marked unavailable.
 */
export function writeTempestConf(path: string, opts: TempestConfOptions): string {
  const text = renderIni(tempestConfSections(opts));
  writeFileSync(path, text, { mode: 0o600 });
  return text;
}
