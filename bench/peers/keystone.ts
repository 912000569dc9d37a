/**
 * A real OpenStack Keystone (Debian's package) run as a private peer for benchmarks and for
 * validating the conformance runner. Everything it writes lives in `workdir`; every
 * keystone-manage call and the WSGI app get the peer's own config file explicitly.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { ensureDebianPackages } from '../lib/apt.js';
import { keystoneConf, keystonePaths, sqliteShimModule, uwsgiIni } from '../lib/keystone-conf.js';
import type { KeystoneConfInput } from '../lib/keystone-conf.js';
import { addCascadeTriggers, enableWal } from '../lib/keystone-sqlite.js';
import { freePort, waitForHttp, waitForTcp } from '../lib/net.js';
import { runCommand, startDaemon, stopProcess } from '../lib/proc.js';

/** Options for {@link startKeystonePeer}. */
export interface KeystonePeerOptions {
  port: number;
  workdir: string;
  memcached: boolean;
  passwordHash: { algorithm: 'bcrypt'; rounds: number };
}

/** A running peer: `url` is the identity v3 base (http://127.0.0.1:PORT/v3). */
export interface KeystonePeer {
  url: string;
  adminPassword: string;
  /** PIDs this peer started (uwsgi master, memcached), for diagnostics. */
  pids: number[];
  stop(): Promise<void>;
}

/** Debian packages the peer needs. */
export const KEYSTONE_PEER_PACKAGES = ['keystone', 'uwsgi-core', 'uwsgi-plugin-python3', 'memcached', 'python3-memcache'];

/**
 * Installs Keystone if needed, configures it inside `opts.workdir` (SQLite, fernet keys,
 * the given password hashing, optional private memcached) and serves it with uwsgi on
 * 127.0.0.1:`opts.port`. Resolves once the API answers.
 */
export async function startKeystonePeer(opts: KeystonePeerOptions): Promise<KeystonePeer> {
  await ensureDebianPackages(KEYSTONE_PEER_PACKAGES);
  mkdirSync(opts.workdir, { recursive: true });
  const paths = keystonePaths(opts.workdir);
  const started: ChildProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const child of started.reverse()) if (child.pid !== undefined) await stopProcess(child.pid);
    started.length = 0;
  };

  try {
    const memcachedPort = opts.memcached ? await startMemcached(paths.memcachedLog, started) : undefined;
    const input: KeystoneConfInput = { workdir: opts.workdir, port: opts.port, memcachedPort, passwordHash: opts.passwordHash };
    writeFileSync(paths.conf, keystoneConf(input));
    writeFileSync(paths.policyFile, '{}\n');
    mkdirSync(paths.policyDir, { recursive: true });
    writeFileSync(paths.uwsgiIni, uwsgiIni(input));
    writeFileSync(paths.shimModule, sqliteShimModule());

    const adminPassword = randomBytes(12).toString('hex');
    const url = `http://127.0.0.1:${opts.port}/v3`;
    await manage(paths.conf, ['db_sync']);
    addCascadeTriggers(paths.db);
    enableWal(paths.db);
    const owner = await ownerArgs();
    await manage(paths.conf, ['fernet_setup', ...owner]);
    await manage(paths.conf, ['credential_setup', ...owner]);
    await manage(paths.conf, [
      'bootstrap',
      '--bootstrap-password', adminPassword,
      '--bootstrap-username', 'admin',
      '--bootstrap-project-name', 'admin',
      '--bootstrap-role-name', 'admin',
      '--bootstrap-service-name', 'keystone',
      '--bootstrap-region-id', 'RegionOne',
      '--bootstrap-admin-url', url,
      '--bootstrap-internal-url', url,
      '--bootstrap-public-url', url,
    ]);

    const uwsgi = startDaemon('uwsgi', ['--ini', paths.uwsgiIni], { logFile: paths.uwsgiLog, cwd: opts.workdir });
    started.push(uwsgi);
    try {
      await waitForHttp(url, 90_000, () => uwsgi.exitCode === null && uwsgi.pid !== undefined);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- uwsgi.log ---\n${tail(paths.uwsgiLog)}\n--- keystone.log ---\n${tail(paths.keystoneLog)}`);
    }

    const pids = started.map((c) => c.pid as number);
    writeFileSync(`${opts.workdir}/peer.pids`, `${pids.join('\n')}\n`);
    let stopping: Promise<void> | undefined;
    return {
      url,
      adminPassword,
      pids,
      stop() {
        // Every caller (signal handler, finally block) waits for the same shutdown.
        stopping ??= stopAll().then(() => rmSync(opts.workdir, { recursive: true, force: true }));
        return stopping;
      },
    };
  } catch (err) {
    await stopAll();
    rmSync(opts.workdir, { recursive: true, force: true });
    throw err;
  }
}

async function startMemcached(logFile: string, started: ChildProcess[]): Promise<number> {
  const port = await freePort();
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64', '-c', '1024'];
  // memcached refuses to run as root unless told which user to stay.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const child = startDaemon('memcached', args, { logFile });
  started.push(child);
  await waitForTcp(port, 10_000, () => child.exitCode === null && child.pid !== undefined);
  return port;
}

function manage(conf: string, args: string[]): Promise<unknown> {
  return runCommand('keystone-manage', ['--config-file', conf, ...args], { timeoutMs: 300_000 });
}

/** fernet/credential setup chown the key repository; keep it owned by whoever runs the peer. */
async function ownerArgs(): Promise<string[]> {
  const user = userInfo().username;
  const { stdout } = await runCommand('id', ['-gn']);
  return ['--keystone-user', user, '--keystone-group', stdout.trim()];
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '(none)';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
}
