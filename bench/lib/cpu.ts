/**
 * CPU time accounting from /proc, so a throughput figure taken on a shared machine can be read
 * with the CPU the server spent on it and how busy the rest of the machine was meanwhile.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { descendants } from './proc.js';

/** Linux reports process and system times in USER_HZ ticks, 100 per second on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * utime + stime (seconds) from the text of /proc/PID/stat (all threads of the process), plus
 * cutime + cstime (children it has waited for, e.g. a finished curl) when `withChildren`.
 */
export function parseProcStatCpu(stat: string, withChildren = false): number {
  // Fields after the parenthesised command name; utime, stime, cutime, cstime are fields 14-17 overall.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(rest[11]) + Number(rest[12]);
  return (withChildren ? own + Number(rest[13]) + Number(rest[14]) : own) / TICKS_PER_SECOND;
}

/** CPU seconds of this process and of the children it reaped (the bench client and its curl). */
const clientCpuSeconds = (): number => parseProcStatCpu(readFileSync('/proc/self/stat', 'utf8'), true);

/** Busy and total seconds (summed over all cores) from the `cpu` line of /proc/stat. */
export function parseSystemCpu(procStat: string): { busy: number; total: number } {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no cpu line in /proc/stat');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  return { busy: busy / TICKS_PER_SECOND, total: (busy + idle + iowait) / TICKS_PER_SECOND };
}

/** CPU seconds used so far by `pids` and their live descendants (0 for any that vanished). */
export function treeCpuSeconds(pids: readonly number[]): number {
  const all = new Set<number>();
  for (const pid of pids) {
    all.add(pid);
    for (const d of descendants(pid)) all.add(d);
  }
  let total = 0;
  for (const pid of all) {
    try {
      total += parseProcStatCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** CPU used during one interval: by the server, by this (client) process, by everything else. */
export interface CpuSplit {
  server: number;
  client: number;
  others: number;
  /** Wall seconds × cores: the CPU time the machine had. */
  available: number;
}

/** Starts measuring; `stop()` returns the split for the interval. */
export function measureCpu(serverPids: readonly number[]): { stop(): CpuSplit } {
  const sys0 = parseSystemCpu(readFileSync('/proc/stat', 'utf8'));
  const server0 = treeCpuSeconds(serverPids);
  const client0 = clientCpuSeconds();
  const t0 = process.hrtime.bigint();
  return {
    stop() {
      const sys1 = parseSystemCpu(readFileSync('/proc/stat', 'utf8'));
      const server = treeCpuSeconds(serverPids) - server0;
      const client = clientCpuSeconds() - client0;
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      return { server, client, others: Math.max(0, sys1.busy - sys0.busy - server - client), available: wall * cpus().length };
    },
  };
}

/**
 * Waits until the whole machine was at most `maxBusy` (0..1) busy over one second, for up to
 * `maxWaitMs`. Returns the last busy fraction seen. On a machine shared with other jobs this
 * keeps a timed transfer out of their bursts where possible.
 */
export async function waitForQuiet(maxBusy: number, maxWaitMs: number): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let busy = 1;
  do {
    const a = parseSystemCpu(readFileSync('/proc/stat', 'utf8'));
    await new Promise((r) => setTimeout(r, 1000));
    const b = parseSystemCpu(readFileSync('/proc/stat', 'utf8'));
    busy = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
  } while (busy > maxBusy && Date.now() < deadline);
  return busy;
}
