import { join } from 'node:path';

/** Settings that shape the peer glance-api's configuration file. */
export interface GlanceConfInput {
  workdir: string;
  /** Port glance-api listens on (127.0.0.1). */
  port: number;
  /** Worker processes (the issue compares against 2). */
  workers?: number;
  /** Identity v3 base URL of the Keystone peer (…/v3) that validates tokens. */
  keystoneUrl: string;
  /** Password of the `glance` service user in project `service` (Default domain). */
  servicePassword: string;
}

/** Paths of everything the peer keeps inside its workdir. */
export function glancePaths(workdir: string) {
  return {
    conf: join(workdir, 'glance-api.conf'),
    db: join(workdir, 'glance.db'),
    images: join(workdir, 'images'),
    staging: join(workdir, 'staging'),
    cache: join(workdir, 'image-cache'),
    locks: join(workdir, 'locks'),
    log: join(workdir, 'glance-api.log'),
    stdoutLog: join(workdir, 'glance-api.out'),
  };
}

/** The Debian package's paste pipeline file: read only, the `keystone` flavor selects authtoken. */
export const GLANCE_PASTE_INI = '/etc/glance/glance-api-paste.ini';

/**
 * glance-api.conf for a self-contained peer: SQLite and the file store inside the workdir,
 * keystone auth via the peer's `glance` service user, nothing under /etc/glance or /var/lib/glance
 * written. Only the paste pipeline definition is read from the package.
 */
export function glanceApiConf(input: GlanceConfInput): string {
  const p = glancePaths(input.workdir);
  const keystoneRoot = input.keystoneUrl.replace(/\/v3\/?$/, '');
  return [
    '[DEFAULT]',
    'bind_host = 127.0.0.1',
    `bind_port = ${input.port}`,
    `workers = ${input.workers ?? 2}`,
    `log_file = ${p.log}`,
    'use_stderr = false',
    `image_cache_dir = ${p.cache}`,
    // The legacy (single-store) configuration stages imports here; keep it out of /tmp/staging.
    `node_staging_uri = file://${p.staging}`,
    '',
    '[database]',
    `connection = sqlite:///${p.db}`,
    '',
    '[glance_store]',
    'stores = file',
    'default_store = file',
    `filesystem_store_datadir = ${p.images}`,
    '',
    '[keystone_authtoken]',
    `www_authenticate_uri = ${keystoneRoot}`,
    `auth_url = ${keystoneRoot}`,
    'auth_type = password',
    'project_domain_name = Default',
    'user_domain_name = Default',
    'project_name = service',
    'username = glance',
    `password = ${input.servicePassword}`,
    '',
    '[oslo_concurrency]',
    `lock_path = ${p.locks}`,
    '',
    '[paste_deploy]',
    'flavor = keystone',
    `config_file = ${GLANCE_PASTE_INI}`,
    '',
  ].join('\n');
}
