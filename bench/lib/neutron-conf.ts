import { join } from 'node:path';

/** Settings that shape the peer neutron-server's configuration files. */
export interface NeutronConfInput {
  workdir: string;
  /** Port neutron-server listens on (127.0.0.1). */
  port: number;
  /** API worker processes (the bench compares against 2). */
  apiWorkers?: number;
  /** SQLAlchemy URL of the peer's own MariaDB database (mysql+pymysql://…). */
  databaseUrl: string;
  /** oslo.messaging URL of the peer's own RabbitMQ vhost (rabbit://…). */
  transportUrl: string;
  /** Identity v3 base URL (…/v3) that validates tokens: the Nephos identity service. */
  identityUrl: string;
  /** Service user keystonemiddleware logs in as (project `service`, Default domain). */
  serviceUser: string;
  servicePassword: string;
}

/** Paths of everything the peer keeps inside its workdir. */
export function neutronPaths(workdir: string) {
  return {
    conf: join(workdir, 'neutron.conf'),
    ml2: join(workdir, 'ml2_conf.ini'),
    state: join(workdir, 'state'),
    locks: join(workdir, 'locks'),
    log: join(workdir, 'neutron-server.log'),
    stdoutLog: join(workdir, 'neutron-server.out'),
    dbManageLog: join(workdir, 'neutron-db-manage.log'),
  };
}

/** The Debian package's paste pipeline (read only): its `keystone` pipeline puts authtoken in front. */
export const NEUTRON_PASTE_INI = '/etc/neutron/api-paste.ini';

/**
 * neutron.conf for an API-only peer: ML2 + the router service plugin, keystone auth against
 * Nephos, MariaDB, a private RabbitMQ vhost; no Nova notifications (there is no Nova), state and
 * locks inside the workdir, nothing under /etc/neutron or /var/lib/neutron written.
 */
export function neutronConf(input: NeutronConfInput): string {
  const p = neutronPaths(input.workdir);
  const identityRoot = input.identityUrl.replace(/\/v3\/?$/, '');
  return [
    '[DEFAULT]',
    'bind_host = 127.0.0.1',
    `bind_port = ${input.port}`,
    `api_workers = ${input.apiWorkers ?? 2}`,
    // Zed raises 0 to 1 (service._get_rpc_workers): one RPC worker always runs; ask for the least.
    'rpc_workers = 0',
    'rpc_state_report_workers = 0',
    'core_plugin = ml2',
    'service_plugins = router',
    'auth_strategy = keystone',
    `api_paste_config = ${NEUTRON_PASTE_INI}`,
    `transport_url = ${input.transportUrl}`,
    `state_path = ${p.state}`,
    `log_file = ${p.log}`,
    'use_stderr = false',
    'notify_nova_on_port_status_changes = false',
    'notify_nova_on_port_data_changes = false',
    '',
    '[database]',
    `connection = ${input.databaseUrl}`,
    '',
    '[keystone_authtoken]',
    `www_authenticate_uri = ${identityRoot}`,
    `auth_url = ${identityRoot}`,
    'auth_type = password',
    'project_domain_name = Default',
    'user_domain_name = Default',
    'project_name = service',
    `username = ${input.serviceUser}`,
    `password = ${input.servicePassword}`,
    '',
    '[oslo_concurrency]',
    `lock_path = ${p.locks}`,
    '',
    // Zed refuses to load the linuxbridge mechanism driver without this.
    '[experimental]',
    'linuxbridge = true',
    '',
  ].join('\n');
}

/** ml2_conf.ini: flat and VXLAN type drivers, VXLAN tenant networks, linuxbridge, port security. */
export function ml2Conf(): string {
  return [
    '[ml2]',
    'type_drivers = flat,vxlan',
    'tenant_network_types = vxlan',
    'mechanism_drivers = linuxbridge',
    'extension_drivers = port_security',
    '',
    '[ml2_type_flat]',
    'flat_networks = physnet1',
    '',
    '[ml2_type_vxlan]',
    'vni_ranges = 1:10000',
    '',
  ].join('\n');
}

/** Server connection facts parsed from a mysql:// (or mariadb://) URL without a database. */
export interface MariadbServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Parses `mysql://user[:password]@host[:port]` (the bench's NEPHOS_BENCH_MARIADB_URL). */
export function parseMariadbUrl(url: string): MariadbServer {
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  if (u.protocol !== 'mysql:') throw new Error(`expected a mysql:// or mariadb:// URL, got ${u.protocol}`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
  };
}

/** The SQLAlchemy URL neutron uses for `database` on `server` (PyMySQL driver). */
export function sqlalchemyUrl(server: MariadbServer, database: string): string {
  const auth = server.password ? `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}` : encodeURIComponent(server.user);
  return `mysql+pymysql://${auth}@${server.host}:${server.port}/${database}`;
}

/** The oslo.messaging URL of `vhost` on the local RabbitMQ as `guest` (allowed on loopback only). */
export function rabbitTransportUrl(vhost: string, port = 5672): string {
  return `rabbit://guest:guest@127.0.0.1:${port}/${encodeURIComponent(vhost)}`;
}

/** Database and vhost names are used in SQL and on a command line: keep them to a safe alphabet. */
export function peerResourceName(suffix: string | number): string {
  const name = `nephos_bench_neutron_${suffix}`;
  if (!/^[a-z0-9_]{1,64}$/.test(name)) throw new Error(`unsafe peer resource name ${JSON.stringify(name)}`);
  return name;
}
