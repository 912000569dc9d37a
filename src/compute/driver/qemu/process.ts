/**
 * QEMU processes of instances: started daemonized (`-daemonize`: QEMU's first process returns once
 * the machine is set up, or fails with the reason on stderr; the daemon is re-parented away from
 * the agent, in its own session, and outlives it) inside the host's network namespace via
 * `nsenter --net=/run/netns/<ns>`, so `-netdev tap,ifname=…` opens the TAP the network agent made
 * there. Found again by their pid file alone: a pid counts only when that process is alive and is
 * QEMU with `-uuid <instance id>` on its command line, so a recycled pid is never taken for ours.
 *
 * A clean exit (guest power-off, `quit`, SIGTERM) makes QEMU remove its pid file and sockets; a
 * pid file left behind by a dead process therefore means it died uncleanly (killed, crashed, host
 * rebooted). `reapStale` records that as a `crashed` marker and removes the leftovers.
 */
import { access, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { exec, HostCommandError } from '../../../platform/host/exec.js';
import { isOurProcess, readPidFile, signalPid, waitDead } from '../../../platform/host/daemon.js';
import { ComputeDriverError } from '../errors.js';
import type { InstancePaths } from './instance-config.js';

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** The named network namespace's file. */
export const netnsPath = (ns: string): string => `/run/netns/${ns}`;

/**
 * Runs QEMU (`binary args…`, which must include -daemonize and -pidfile) in namespace `ns`;
 * resolves with the daemon's pid.
 */
export async function launchQemu(binary: string, ns: string, args: readonly string[], paths: InstancePaths, instanceId: string, timeoutMs = 60_000): Promise<number> {
  if (!await exists(netnsPath(ns))) {
    throw new ComputeDriverError('NetworkNotReady', `network namespace ${ns} does not exist (the network agent makes it)`);
  }
  try {
    await exec('nsenter', [`--net=${netnsPath(ns)}`, binary, ...args], { timeoutMs });
  } catch (err) {
    const why = err instanceof HostCommandError ? err.stderr.trim() : (err as Error).message;
    throw new ComputeDriverError('HypervisorError', `QEMU did not start for instance ${instanceId}: ${why}`, { cause: err });
  }
  const pid = await qemuPid(paths, instanceId, binary);
  if (pid === null) throw new ComputeDriverError('HypervisorError', `QEMU of instance ${instanceId} exited right after it started`);
  return pid;
}

/** The pid of the instance's live QEMU, or null. */
export async function qemuPid(paths: InstancePaths, instanceId: string, binary: string): Promise<number | null> {
  const pid = await readPidFile(paths.pid);
  if (pid === null) return null;
  return await isOurProcess(pid, basename(binary), ['-uuid', instanceId]) ? pid : null;
}

/**
 * Cleans up after a QEMU that is not running: a pid file left by a process that died uncleanly
 * becomes the `crashed` marker (true returned); stale sockets go.
 */
export async function reapStale(paths: InstancePaths, instanceId: string, binary: string): Promise<boolean> {
  if (await qemuPid(paths, instanceId, binary) !== null) return false;
  let crashed = false;
  const pid = await readPidFile(paths.pid);
  // QEMU unlinks its pid file before it exits cleanly: one still there after the process is gone is stale.
  if (pid !== null && await qemuPid(paths, instanceId, binary) === null && await exists(paths.pid)) {
    await writeFile(paths.crashed, `${JSON.stringify({ pid, detectedAt: new Date().toISOString() })}\n`);
    crashed = true;
  }
  await Promise.all([paths.pid, paths.qmp, paths.qmpStatus].map((p) => rm(p, { force: true })));
  return crashed;
}

/** Ends the instance's QEMU if it is still ours: SIGTERM (QEMU exits cleanly), SIGKILL after `graceMs`. */
export async function killQemu(pid: number, paths: InstancePaths, instanceId: string, binary: string, graceMs = 5000): Promise<void> {
  if (await qemuPid(paths, instanceId, binary) !== pid) return;
  if (!signalPid(pid, 'SIGTERM')) return;
  if (await waitDead(pid, graceMs)) return;
  signalPid(pid, 'SIGKILL');
  if (!await waitDead(pid, 5000)) throw new ComputeDriverError('HypervisorError', `QEMU of instance ${instanceId} (pid ${pid}) survived SIGKILL`);
}
