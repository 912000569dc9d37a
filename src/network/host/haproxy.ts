/**
 * haproxy processes in the cloud's namespaces (the metadata proxy of each DHCP namespace; later
 * load balancers). Each is one config file whose `global` section says `daemon` and `pidfile`: it
 * outlives the agent and is adopted on restart by pid file, program, `-f <config>` and namespace
 * (daemon.ts). A changed config restarts it; an unchanged one is never touched.
 */
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { exec } from '../../platform/host/exec.js';
import { daemonPid, readPidFile, stopDaemon, type DaemonIdentity } from '../../platform/host/daemon.js';
import { writeIfChanged } from './files.js';

const PROGRAM = 'haproxy';
const START_TIMEOUT_MS = 15_000;

/** One haproxy: its config file (holding `pidfile <pidFile>` and `daemon`) and pid file. */
export interface HaproxyFiles {
  readonly config: string;
  readonly pidFile: string;
}

function identity(netns: string, f: HaproxyFiles): DaemonIdentity {
  return { pidFile: f.pidFile, program: PROGRAM, args: ['-f', f.config], netns };
}

/** The pid of this haproxy when it runs in `netns` with config `f.config`. */
export async function haproxyPid(netns: string, f: HaproxyFiles): Promise<number | null> {
  return daemonPid(identity(netns, f));
}

/**
 * Makes haproxy run in `netns` with `configText` (written to `f.config` with `mode`; 0600 when it
 * holds secrets — haproxy reads it as root before dropping privileges).
 */
export async function ensureHaproxy(netns: string, f: HaproxyFiles, configText: string, mode = 0o600): Promise<{ action: 'unchanged' | 'started' | 'restarted'; pid: number }> {
  const changed = await writeIfChanged(f.config, configText, mode);
  const running = await haproxyPid(netns, f);
  if (running !== null && !changed) return { action: 'unchanged', pid: running };
  const stopped = await stopHaproxy(f);
  // In daemon mode the first process exits once the workers are forked and the pid file written;
  // a config or bind error comes back on its stderr.
  await exec(PROGRAM, ['-f', f.config], { netns, timeoutMs: START_TIMEOUT_MS });
  for (let i = 0; i < 100; i++) {
    const pid = await haproxyPid(netns, f);
    if (pid !== null) return { action: running !== null || stopped ? 'restarted' : 'started', pid };
    await sleep(20);
  }
  throw new Error(`haproxy in ${netns} started but ${f.pidFile} names no running haproxy`);
}

/** Stops this haproxy (whatever namespace it is in) by its pid file; true when one was stopped. */
export async function stopHaproxy(f: HaproxyFiles): Promise<boolean> {
  const pid = await readPidFile(f.pidFile);
  if (pid === null) return false;
  const stopped = await stopDaemon(pid, PROGRAM, ['-f', f.config]);
  await rm(f.pidFile, { force: true });
  return stopped;
}
