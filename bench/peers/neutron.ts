/**
 * A real OpenStack Neutron (Debian's neutron-server, Zed) run API-only as a private peer for the
 * network bench: ML2 with the linuxbridge mechanism driver, flat + VXLAN, the router service
 * plugin, no agents; its own MariaDB database and RabbitMQ vhost; tokens validated through
 * keystonemiddleware against the Nephos identity service, as in a deployment. Everything it
 * makes (files, database, vhost, service user, processes) is removed by `stop`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ensureDebianPackages } from '../lib/apt.js';
import { DEFAULT_MARIADB_URL, createDatabase, dropDatabase } from '../lib/mariadb.js';
import { ml2Conf, neutronConf, neutronPaths, parseMariadbUrl, peerResourceName, rabbitTransportUrl, sqlalchemyUrl } from '../lib/neutron-conf.js';
import { waitForHttp } from '../lib/net.js';
import { runCommand, startDaemon, stopProcess } from '../lib/proc.js';
import { addVhost, deleteVhost } from '../lib/rabbitmq.js';
import { createServiceUser } from '../lib/service-user.js';

/**
 * Debian packages the peer needs. `neutron-server` is a metapackage (neutron-api under uwsgi +
 * neutron-rpc-server init scripts); the bench runs the `neutron-server` program of python3-neutron
 * itself, the classic all-in-one eventlet server. PyMySQL is Neutron's MariaDB driver.
 */
export const NEUTRON_PEER_PACKAGES = ['neutron-server', 'python3-neutron', 'python3-pymysql'];

/** Options for {@link startNeutronPeer}. */
export interface NeutronPeerOptions {
  port: number;
  workdir: string;
  /** Identity v3 base URL (…/v3) of the Nephos identity service that issues and validates tokens. */
  identityUrl: string;
  /** Password of `admin` there, to create (and later delete) the peer's service user. */
  adminPassword: string;
  apiWorkers?: number;
  /** MariaDB server (default NEPHOS_BENCH_MARIADB_URL or root@127.0.0.1:3306). */
  mariadbUrl?: string;
  /** Makes the database, vhost and user names unique (default: this process's pid). */
  suffix?: string | number;
  /** Progress lines (install, migrations, start). */
  log?: (line: string) => void;
}

/** A running peer: `url` is the network API root (http://127.0.0.1:PORT, without /v2.0). */
export interface NeutronPeer {
  url: string;
  /** PID of the neutron-server parent (API and RPC workers are its children). */
  pids: number[];
  /** Packages this start installed (empty when all were present). */
  installed: string[];
  /** Seconds spent: package install, `neutron-db-manage upgrade heads`, server start to first answer. */
  timings: { installSeconds: number; migrateSeconds: number; startSeconds: number };
  stop(): Promise<void>;
}

type Undo = () => Promise<void>;

/** Runs every undo in reverse order; rejects with all their failures together, after all ran. */
async function unwind(undos: Undo[]): Promise<void> {
  const failures: string[] = [];
  while (undos.length > 0) {
    try {
      await (undos.pop() as Undo)();
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  if (failures.length > 0) throw new Error(`neutron peer cleanup: ${failures.join('; ')}`);
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/**
 * Installs the packages if missing, makes the service user, database and vhost, writes the
 * config, migrates the database and starts neutron-server on 127.0.0.1:`opts.port`. Resolves once
 * `/v2.0/` answers; on any failure removes what it made and rejects with the server's log tail.
 */
export async function startNeutronPeer(opts: NeutronPeerOptions): Promise<NeutronPeer> {
  const log = opts.log ?? (() => undefined);
  let t0 = performance.now();
  const installed = await ensureDebianPackages(NEUTRON_PEER_PACKAGES);
  const installSeconds = seconds(t0);
  if (installed.length > 0) log(`neutron peer: installed ${installed.join(' ')} in ${installSeconds.toFixed(0)} s`);

  const paths = neutronPaths(opts.workdir);
  const name = peerResourceName(opts.suffix ?? process.pid);
  const server = parseMariadbUrl(opts.mariadbUrl ?? process.env.NEPHOS_BENCH_MARIADB_URL ?? DEFAULT_MARIADB_URL);
  const undos: Undo[] = [async () => rmSync(opts.workdir, { recursive: true, force: true })];
  try {
    for (const dir of [opts.workdir, paths.state, paths.locks]) mkdirSync(dir, { recursive: true });
    const servicePassword = randomBytes(12).toString('hex');
    // Not `neutron`: the Nephos bootstrap owns that name once its network service exists.
    const user = await createServiceUser(opts.identityUrl, opts.adminPassword, name.replace(/_/g, '-'), servicePassword);
    undos.push(() => user.remove());
    await createDatabase(server, name);
    undos.push(() => dropDatabase(server, name));
    await addVhost(name);
    undos.push(() => deleteVhost(name));

    const files = [paths.conf, paths.ml2];
    writeFileSync(
      paths.conf,
      neutronConf({
        workdir: opts.workdir,
        port: opts.port,
        apiWorkers: opts.apiWorkers,
        databaseUrl: sqlalchemyUrl(server, name),
        transportUrl: rabbitTransportUrl(name),
        identityUrl: opts.identityUrl,
        serviceUser: user.name,
        servicePassword,
      }),
      { mode: 0o600 },
    );
    writeFileSync(paths.ml2, ml2Conf());
    const configArgs = files.flatMap((f) => ['--config-file', f]);

    t0 = performance.now();
    log('neutron peer: neutron-db-manage upgrade heads');
    const migrated = await runCommand('neutron-db-manage', [...configArgs, 'upgrade', 'heads'], { timeoutMs: 900_000 });
    writeFileSync(paths.dbManageLog, `${migrated.stdout}\n${migrated.stderr}`);
    const migrateSeconds = seconds(t0);

    t0 = performance.now();
    const child: ChildProcess = startDaemon('neutron-server', configArgs, { logFile: paths.stdoutLog, cwd: opts.workdir });
    undos.push(async () => {
      if (child.pid !== undefined) await stopProcess(child.pid, 20_000);
    });
    const url = `http://127.0.0.1:${opts.port}`;
    try {
      // Without a token the v2.0 root answers 401 once the keystone pipeline is loaded.
      await waitForHttp(`${url}/v2.0/`, 180_000, () => child.exitCode === null && child.pid !== undefined);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- neutron-server.out ---\n${tail(paths.stdoutLog)}\n--- neutron-server.log ---\n${tail(paths.log)}`);
    }
    const startSeconds = seconds(t0);
    const pids = [child.pid as number];
    writeFileSync(`${opts.workdir}/peer.pids`, `${pids.join('\n')}\n`);

    let stopping: Promise<void> | undefined;
    return {
      url,
      pids,
      installed,
      timings: { installSeconds, migrateSeconds, startSeconds },
      stop() {
        // Every caller (signal handler, finally block) waits for the same shutdown.
        stopping ??= unwind(undos);
        return stopping;
      },
    };
  } catch (err) {
    await unwind(undos).catch((cleanup: unknown) => log((cleanup as Error).message));
    throw err;
  }
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(none)';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
}
