/**
 * Removes every host object of one host, whatever the database says: for an operator
 * decommissioning a host (`nephos network cleanup`) and for tests ending a run. Its dnsmasq and
 * haproxy daemons are stopped by their pid files, then any dnsmasq/haproxy still running in one of
 * its namespaces by pid; its namespaces go (`nephos-<host>` and its DHCP/router namespaces, with
 * every bridge, VXLAN device, TAP, veth and nft table in them), optionally the public client
 * namespace, and its runtime files. Nothing in the machine's own namespace is touched.
 *
 * A namespace in which another process still runs (a VM, a shell) is kept and reported: deleting
 * its name would not stop that process, only hide it.
 */
import { existsSync } from 'node:fs';
import { readFile, readlink, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { exec } from '../../platform/host/exec.js';
import { netnsDelete, netnsList } from '../host/ip.js';
import { returnPhysicalInterfaces, type InterfaceMappings } from './physical.js';
import { isNamespaceOfHost } from '../host/names.js';
import { stopDaemon } from '../../platform/host/daemon.js';
import { defaultDhcpDir, removeAllDhcp } from './dhcp.js';

/** The daemons the agent runs in a host's namespaces; any other process there is not ours to stop. */
const OUR_DAEMONS = new Set(['dnsmasq', 'haproxy']);

export interface CleanupOptions {
  /** The host's DHCP directory (default: `defaultDhcpDir(host)`, whose parent, the host's runtime directory, goes too). */
  readonly dhcpDir?: string;
  /** Also remove this public client namespace (only the host that ran the routers has one); null/absent: keep it. */
  readonly publicNamespace?: string | null;
  /** Mapped physical interfaces (`physical_interface_mappings`): given back to the machine, never deleted with the namespace. */
  readonly physicalInterfaces?: InterfaceMappings;
}

export interface CleanupResult {
  /** What was removed or stopped. */
  readonly removed: readonly string[];
  /** What could not be removed, and why. */
  readonly problems: readonly string[];
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Pids of the processes in a named namespace (`ip netns pids`). */
async function pidsIn(ns: string): Promise<number[]> {
  const { stdout } = await exec('ip', ['netns', 'pids', ns], { timeoutMs: 10_000 });
  return stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isSafeInteger(p) && p > 1);
}

/** The program a process runs (basename of its executable, else of argv[0]); null when it is gone. */
async function programOf(pid: number): Promise<string | null> {
  try {
    return basename(await readlink(`/proc/${pid}/exe`));
  } catch {
    try {
      const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0];
      return argv0 ? basename(argv0) : null;
    } catch {
      return null;
    }
  }
}

/**
 * Removes every host object of `host` (see the module comment). Idempotent: a second run finds
 * nothing and removes nothing. Never throws for one object; `problems` says what is left.
 */
export async function cleanupHost(host: string, o: CleanupOptions = {}): Promise<CleanupResult> {
  const removed: string[] = [];
  const problems: string[] = [];
  const dhcpDir = o.dhcpDir ?? defaultDhcpDir(host);

  // 1. Daemons by their pid files, DHCP namespaces and per-network files (what the agent itself would
  // do). Without the directory there are no pid files; the namespace sweep below still finds daemons.
  if (existsSync(dhcpDir)) {
    try {
      const r = await removeAllDhcp(host, { dir: dhcpDir });
      removed.push(...r.changes);
      problems.push(...r.errors.map((e) => `${e.object}: ${e.error}`));
    } catch (err) {
      problems.push(`DHCP of ${host}: ${message(err)}`);
    }
  }

  // 2a. Real interfaces moved in by a mapping go home first (deleting the namespace would also
  // return a physical NIC, but would destroy a virtual one).
  if (o.physicalInterfaces?.size) {
    try { removed.push(...await returnPhysicalInterfaces(host, o.physicalInterfaces)); } catch (err) { problems.push(`physical interfaces of ${host}: ${message(err)}`); }
  }

  // 2. Every namespace of the host (and the public one when asked): our daemons left in it by pid, then the namespace.
  const namespaces = (await netnsList()).filter((ns) => isNamespaceOfHost(host, ns) || (o.publicNamespace && ns === o.publicNamespace));
  // DHCP/router namespaces before the host namespace: their veths' host ends then go with them.
  namespaces.sort((a, b) => b.length - a.length);
  for (const ns of namespaces) {
    try {
      const foreign: string[] = [];
      for (const pid of await pidsIn(ns)) {
        const program = await programOf(pid);
        if (program === null) continue;
        if (!OUR_DAEMONS.has(program)) { foreign.push(`${program} (pid ${pid})`); continue; }
        if (await stopDaemon(pid, program, [])) removed.push(`stopped ${program} (pid ${pid}) in ${ns}`);
      }
      if (foreign.length) { problems.push(`${ns} kept: ${foreign.join(', ')} still run in it`); continue; }
      if (await netnsDelete(ns)) removed.push(`deleted namespace ${ns}`);
    } catch (err) {
      problems.push(`${ns}: ${message(err)}`);
    }
  }

  // 3. Runtime files: the DHCP directory, and with the default layout the host's runtime directory (metadata socket).
  const files = o.dhcpDir === undefined ? dirname(dhcpDir) : dhcpDir;
  try {
    if (existsSync(files)) {
      await rm(files, { recursive: true, force: true });
      removed.push(`removed ${files}`);
    }
  } catch (err) {
    problems.push(`${files}: ${message(err)}`);
  }
  return { removed, problems };
}
