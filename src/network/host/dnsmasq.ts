/**
 * One dnsmasq per network, in its DHCP namespace, configured by files in the network's directory
 * (see dnsmasq-config.ts). It daemonizes with a pid file and outlives the agent; a restarted agent
 * adopts it (daemon.ts checks pid, program, config file and namespace). The static config changing
 * restarts it; hosts, names or options changing only send SIGHUP (dnsmasq re-reads those files), so
 * leases and DNS never blink when a port comes or goes.
 *
 * A lease outlives its port: dnsmasq will not give a leased address to another MAC, so an address
 * freed by a deleted port and allocated to a new one would get no DHCP answer until the old lease
 * expired. Like Neutron, each pass releases the leases no host entry backs any more: with
 * `dhcp_release` (dnsmasq-utils) to a running dnsmasq, or by pruning the lease file before a start.
 *
 * Crash safety: after a start or a SIGHUP, `dnsmasq.loaded` records which pid loaded which digest of
 * the reloadable files; a pass that finds the running pid with another digest reloads it, so an
 * agent dying between writing the files and signalling never leaves dnsmasq on stale hosts.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { exec } from '../../platform/host/exec.js';
import { daemonPid, signalPid, stopDaemon, readPidFile, type DaemonIdentity } from '../../platform/host/daemon.js';
import { assertTraversableByOthers, ensureDir, writeIfChanged } from './files.js';
import { dnsmasqPaths, renderDnsmasq, type DnsmasqSpec } from './dnsmasq-config.js';

export { dnsmasqPaths, renderDnsmasq, METADATA_IP, type DnsmasqSpec, type DnsmasqSubnet } from './dnsmasq-config.js';

/** What `ensureDnsmasq` did. */
export type DnsmasqAction = 'unchanged' | 'started' | 'restarted' | 'reloaded';

const START_TIMEOUT_MS = 15_000;
const PROGRAM = 'dnsmasq';

const confArg = (dir: string): string => `--conf-file=${dnsmasqPaths(dir).conf}`;

function identity(netns: string, dir: string): DaemonIdentity {
  return { pidFile: dnsmasqPaths(dir).pid, program: PROGRAM, args: [confArg(dir)], netns };
}

/** The pid of the network's dnsmasq when it runs, healthy, in `netns` with the config of `dir`. */
export async function dnsmasqPid(netns: string, dir: string): Promise<number | null> {
  return daemonPid(identity(netns, dir));
}

async function loadedDigest(dir: string, pid: number): Promise<string | null> {
  try {
    const [p, digest] = (await readFile(dnsmasqPaths(dir).loaded, 'utf8')).trim().split(' ');
    return Number(p) === pid && digest ? digest : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function recordLoaded(dir: string, pid: number, digest: string): Promise<void> {
  await writeIfChanged(dnsmasqPaths(dir).loaded, `${pid} ${digest}\n`, 0o644);
}

interface Lease { readonly mac: string; readonly ip: string; readonly line: string }

/** The IPv4 leases of the lease file (`expiry mac ip name clientid`; IPv6 lines follow a `duid` line). */
async function readLeases(dir: string): Promise<Lease[]> {
  let text: string;
  try {
    text = await readFile(dnsmasqPaths(dir).leases, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const leases: Lease[] = [];
  for (const line of text.split('\n')) {
    const [, mac, ip] = line.split(' ');
    if (mac && ip && isIPv4(ip)) leases.push({ mac: mac.toLowerCase(), ip, line });
  }
  return leases;
}

/** Leases that no host entry of `spec` backs (another MAC on the address, or the address gone). */
async function staleLeases(dir: string, spec: DnsmasqSpec): Promise<Lease[]> {
  const backed = new Set(spec.hosts.map((h) => `${h.macAddress.toLowerCase()} ${h.ipAddress}`));
  return (await readLeases(dir)).filter((l) => !backed.has(`${l.mac} ${l.ip}`));
}

/** Tells the running dnsmasq to forget `leases` (a DHCPRELEASE on its interface, as from the client). */
async function releaseLeases(netns: string, spec: DnsmasqSpec, leases: readonly Lease[]): Promise<void> {
  for (const l of leases) await exec('dhcp_release', [spec.interfaceName, l.ip, l.mac], { netns, timeoutMs: 10_000 });
}

/** Drops stale leases from the file of a stopped dnsmasq (it loads the file when it starts). */
async function pruneLeaseFile(dir: string, spec: DnsmasqSpec): Promise<void> {
  const stale = new Set((await staleLeases(dir, spec)).map((l) => l.line));
  if (stale.size === 0) return;
  const text = await readFile(dnsmasqPaths(dir).leases, 'utf8');
  await writeFile(dnsmasqPaths(dir).leases, text.split('\n').filter((line) => !stale.has(line)).join('\n'));
}

async function start(netns: string, dir: string): Promise<number> {
  // dnsmasq's first process returns only once the daemon is ready (or failed, with its reason on stderr).
  await exec(PROGRAM, [confArg(dir)], { netns, timeoutMs: START_TIMEOUT_MS });
  for (let i = 0; i < 100; i++) {
    const pid = await dnsmasqPid(netns, dir);
    if (pid !== null) return pid;
    await sleep(20);
  }
  throw new Error(`dnsmasq in ${netns} started but ${dnsmasqPaths(dir).pid} names no running dnsmasq`);
}

/**
 * Makes the network's dnsmasq run in `netns` with the files for `spec` under `dir` (created 0755;
 * every ancestor must let `nobody` through, which is checked). Never restarts a healthy dnsmasq
 * whose static config is current.
 */
export async function ensureDnsmasq(netns: string, dir: string, spec: DnsmasqSpec): Promise<{ action: DnsmasqAction; pid: number }> {
  const files = renderDnsmasq(dir, spec);
  const paths = dnsmasqPaths(dir);
  await ensureDir(dir, 0o755);
  await assertTraversableByOthers(dir);
  const confChanged = await writeIfChanged(paths.conf, files.conf, 0o644);
  await writeIfChanged(paths.hosts, files.hosts, 0o644);
  await writeIfChanged(paths.addnHosts, files.addnHosts, 0o644);
  await writeIfChanged(paths.opts, files.opts, 0o644);
  const digest = createHash('sha256').update(files.hosts).update('\0').update(files.addnHosts).update('\0').update(files.opts).digest('hex');

  const running = await dnsmasqPid(netns, dir);
  if (running !== null && !confChanged) {
    if (await loadedDigest(dir, running) === digest) return { action: 'unchanged', pid: running };
    signalPid(running, 'SIGHUP');
    await releaseLeases(netns, spec, await staleLeases(dir, spec));
    await recordLoaded(dir, running, digest);
    return { action: 'reloaded', pid: running };
  }
  // Not running here, or running with an old static config — or ours left in a namespace that was re-made.
  const stopped = await stopDnsmasq(dir);
  await pruneLeaseFile(dir, spec);
  const pid = await start(netns, dir);
  await recordLoaded(dir, pid, digest);
  return { action: running !== null || stopped ? 'restarted' : 'started', pid };
}

/** Stops the dnsmasq of `dir` (whatever namespace it is in), by its pid file; true when one was stopped. */
export async function stopDnsmasq(dir: string): Promise<boolean> {
  const pid = await readPidFile(dnsmasqPaths(dir).pid);
  if (pid === null) return false;
  const stopped = await stopDaemon(pid, PROGRAM, [confArg(dir)]);
  await rm(dnsmasqPaths(dir).pid, { force: true });
  return stopped;
}
