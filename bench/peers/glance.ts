/**
 * A real OpenStack Glance (Debian's glance-api, Zed) run as a private peer for the image bench:
 * file store, SQLite, `workers = 2`, tokens validated by a Keystone peer through keystonemiddleware
 * like a real deployment. Everything it writes lives in `workdir`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { ensureDebianPackages } from '../lib/apt.js';
import { glanceApiConf, glancePaths } from '../lib/glance-conf.js';
import { createHttpClient } from '../lib/http-client.js';
import { waitForHttp } from '../lib/net.js';
import { runCommand, startDaemon, stopProcess } from '../lib/proc.js';
import type { KeystonePeer } from './keystone.js';

/** Debian packages the peer needs (the Keystone peer installs its own). */
export const GLANCE_PEER_PACKAGES = ['glance-api'];

/** Options for {@link startGlancePeer}. */
export interface GlancePeerOptions {
  port: number;
  workdir: string;
  /** The Keystone peer that issues and validates tokens; gets a `glance` service user. */
  keystone: KeystonePeer;
  workers?: number;
}

/** A running peer: `url` is the image API root (http://127.0.0.1:PORT, no version). */
export interface GlancePeer {
  url: string;
  /** The directory the file store writes image data to. */
  dataDir: string;
  /** PID of the glance-api parent (its workers are its children). */
  pids: number[];
  stop(): Promise<void>;
}

/**
 * Installs glance-api if needed, registers the `glance` service user in the Keystone peer,
 * writes the config, runs `glance-manage db_sync` and starts glance-api on 127.0.0.1:`opts.port`.
 * Resolves once the API answers.
 */
export async function startGlancePeer(opts: GlancePeerOptions): Promise<GlancePeer> {
  await ensureDebianPackages(GLANCE_PEER_PACKAGES);
  const paths = glancePaths(opts.workdir);
  for (const dir of [opts.workdir, paths.images, paths.staging, paths.cache, paths.locks]) mkdirSync(dir, { recursive: true });
  const servicePassword = randomBytes(12).toString('hex');
  await createServiceUser(opts.keystone, servicePassword);
  writeFileSync(paths.conf, glanceApiConf({ workdir: opts.workdir, port: opts.port, workers: opts.workers, keystoneUrl: opts.keystone.url, servicePassword }));
  await runCommand('glance-manage', ['--config-file', paths.conf, 'db_sync'], { timeoutMs: 300_000 });

  const child: ChildProcess = startDaemon('glance-api', ['--config-file', paths.conf], { logFile: paths.stdoutLog, cwd: opts.workdir });
  const url = `http://127.0.0.1:${opts.port}`;
  const stopChild = async (): Promise<void> => {
    if (child.pid !== undefined) await stopProcess(child.pid);
  };
  try {
    await waitForHttp(`${url}/`, 90_000, () => child.exitCode === null && child.pid !== undefined);
  } catch (err) {
    await stopChild();
    const logs = `--- glance-api.out ---\n${tail(paths.stdoutLog)}\n--- glance-api.log ---\n${tail(paths.log)}`;
    rmSync(opts.workdir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    dataDir: paths.images,
    pids: [child.pid as number],
    stop() {
      stopping ??= stopChild().then(() => rmSync(opts.workdir, { recursive: true, force: true }));
      return stopping;
    },
  };
}

/** Project `service`, user `glance` with the admin role on it: what a deployment guide sets up. */
async function createServiceUser(keystone: KeystonePeer, password: string): Promise<void> {
  const client = createHttpClient(keystone.url, 2);
  try {
    const auth = await client.send('POST', '/auth/tokens', {
      expect: 201,
      json: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: keystone.adminPassword } } },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      },
    });
    const headers = { 'x-auth-token': String(auth.headers['x-subject-token']) };
    const idOf = (body: string, key: string): string => (JSON.parse(body) as Record<string, { id: string }>)[key].id;
    const project = idOf((await client.send('POST', '/projects', { headers, expect: 201, json: { project: { name: 'service', domain_id: 'default' } } })).body, 'project');
    const user = idOf(
      (await client.send('POST', '/users', { headers, expect: 201, json: { user: { name: 'glance', password, domain_id: 'default', default_project_id: project } } })).body,
      'user',
    );
    const roles = JSON.parse((await client.send('GET', '/roles?name=admin', { headers, expect: 200 })).body) as { roles: { id: string }[] };
    if (roles.roles.length !== 1) throw new Error('keystone peer: no admin role');
    await client.send('PUT', `/projects/${project}/users/${user}/roles/${roles.roles[0].id}`, { headers, expect: 204 });
  } finally {
    client.close();
  }
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(none)';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
}
