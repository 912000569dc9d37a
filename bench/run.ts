/**
 * Benchmark entry point.
 *
 *   node dist/bench/run.js identity [--nephos-url URL|peer] [--nephos-password X] [--cloud nephos]
 *        [--nephos-pid PID] [--peer-port 35357] [--bcrypt-rounds 12] [--no-memcached]
 *        [--seconds N (env BENCH_SECONDS, default 10)] [--concurrency 4]
 *   node dist/bench/run.js keystone-peer [--port 35357] [--bcrypt-rounds 12] [--write-env FILE]
 *   node dist/bench/run.js image [--size-mib 1024] [--runs 3] [--dd-runs 3] [--hash-runs 3] [--client curl|node] [--no-nephos] [--no-glance] [--quiet-busy 0.3] [--quiet-wait 60]
 *   node dist/bench/run.js network [--ports 200] [--concurrency 4] [--list-sizes 40,200,10000] [--peer-max-list 200] [--no-nephos] [--no-neutron]
 *        [--nephos-url URL] [--identity-url URL] [--nephos-password X]   (see bench/network.ts)
 *   node dist/bench/run.js compute [--boots 10] [--hosts 1000] [--instances 1000] [--servers 5000] [--no-boots] [--no-schedule] [--no-list]   (see bench/compute.ts)
 *   node dist/bench/run.js compute-scheduler [--hosts 1000] [--instances 1000] [--weigher spread|stack] [--multi N]   (see bench/compute-scheduler.ts)
 *
 * `identity` starts a Keystone peer, measures Nephos (default http://127.0.0.1:5000/v3, which must
 * already be up) and the peer, prints the table and stops the peer. `--nephos-url peer` measures
 * the peer against itself, to test the bench. `keystone-peer` only runs the peer until SIGINT/SIGTERM,
 * writing KEYSTONE_PEER_URL and KEYSTONE_PEER_PASSWORD to --write-env once it answers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cloudPassword } from '../test/conformance/clouds.js';
import { benchIdentityTarget, formatIdentityTable } from './identity.js';
import { imageBenchMain } from './image.js';
import { networkBenchMain } from './network.js';
import { computeSchedulerBenchMain } from './compute-scheduler.js';
import { computeBenchMain } from './compute.js';
import type { IdentityTarget } from './identity.js';
import { rssKiB, treeRssKiB } from './lib/rss.js';
import { startKeystonePeer } from './peers/keystone.js';
import type { KeystonePeer } from './peers/keystone.js';

const USAGE = 'usage: run.js identity [options] | run.js keystone-peer [options] | run.js image [options] | run.js network [options] | run.js compute [options] | run.js compute-scheduler [options]  (see bench/run.ts, bench/image.ts, bench/network.ts, bench/compute-scheduler.ts)';

async function withPeer<T>(port: number, rounds: number, memcached: boolean, fn: (peer: KeystonePeer) => Promise<T>): Promise<T> {
  const workdir = mkdtempSync(join(tmpdir(), 'keystone-peer-'));
  const peer = await startKeystonePeer({ port, workdir, memcached, passwordHash: { algorithm: 'bcrypt', rounds } });
  const onSignal = (): void => {
    void peer.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(peer);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await peer.stop();
  }
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

async function identity(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'nephos-url': { type: 'string', default: 'http://127.0.0.1:5000/v3' },
      'nephos-password': { type: 'string' },
      cloud: { type: 'string', default: 'nephos' },
      'nephos-pid': { type: 'string' },
      'peer-port': { type: 'string', default: '35357' },
      'bcrypt-rounds': { type: 'string', default: '12' },
      'no-memcached': { type: 'boolean', default: false },
      seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '10' },
      concurrency: { type: 'string', default: '4' },
    },
  });
  const selfTest = values['nephos-url'] === 'peer';
  const nephosPassword = values['nephos-password'] ?? cloudPassword(values.cloud);
  if (!selfTest && !nephosPassword) {
    console.error(`no Nephos admin password: pass --nephos-password or add clouds.${values.cloud}.auth.password to clouds.yaml`);
    return 2;
  }
  const load = { concurrency: Number(values.concurrency), durationMs: Number(values.seconds) * 1000 };
  const rounds = Number(values['bcrypt-rounds']);
  return withPeer(Number(values['peer-port']), rounds, !values['no-memcached'], async (peer) => {
    const keystoneTarget: IdentityTarget = { url: peer.url, password: peer.adminPassword };
    const nephosTarget: IdentityTarget = selfTest
      ? keystoneTarget
      : { url: values['nephos-url'].replace(/\/+$/, ''), password: nephosPassword as string };
    console.log(`nephos:   ${nephosTarget.url}${selfTest ? ' (the keystone peer itself)' : ''}`);
    console.log(`keystone: ${peer.url} (uwsgi 2 workers, bcrypt rounds ${rounds}, memcached ${!values['no-memcached']})`);
    console.log(`load:     concurrency ${load.concurrency}, ${load.durationMs / 1000} s per operation`);
    const nephosPid = values['nephos-pid'] ? Number(values['nephos-pid']) : undefined;
    const idleRss = nephosPid ? rssKiB(nephosPid) : undefined;
    const nephos = await benchIdentityTarget(nephosTarget, load);
    const keystone = await benchIdentityTarget(keystoneTarget, load);
    console.log('');
    console.log(formatIdentityTable(nephos, keystone));
    console.log('');
    if (nephosPid) {
      const rss = rssKiB(nephosPid);
      const show = (k: number | undefined) => (k === undefined ? 'unreadable' : mib(k));
      console.log(`nephos RSS (pid ${nephosPid}): idle before the load ${show(idleRss)}, after it ${show(rss)}`);
    }
    console.log(`keystone peer RSS (uwsgi master+workers+router, memcached): ${mib(treeRssKiB(peer.pids))}`);
    return 0;
  });
}

async function keystonePeer(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '35357' },
      'bcrypt-rounds': { type: 'string', default: '12' },
      'no-memcached': { type: 'boolean', default: false },
      'write-env': { type: 'string' },
    },
  });
  return withPeer(Number(values.port), Number(values['bcrypt-rounds']), !values['no-memcached'], async (peer) => {
    const env = `KEYSTONE_PEER_URL=${peer.url}\nKEYSTONE_PEER_PASSWORD=${peer.adminPassword}\n`;
    if (values['write-env']) writeFileSync(values['write-env'], env, { mode: 0o600 });
    console.log(env.trim());
    console.log(`peer pids: ${peer.pids.join(' ')}; stop with SIGINT/SIGTERM to pid ${process.pid}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    return 0;
  });
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'identity') return identity(rest);
  if (command === 'keystone-peer') return keystonePeer(rest);
  if (command === 'image') return imageBenchMain(rest);
  if (command === 'network') return networkBenchMain(rest);
  if (command === 'compute-scheduler') return computeSchedulerBenchMain(rest);
  if (command === 'compute') return computeBenchMain(rest);
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
