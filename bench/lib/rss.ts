import { readFileSync } from 'node:fs';
import { descendants } from './proc.js';

/** VmRSS of a process in KiB from /proc/PID/status, or undefined if it cannot be read. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Summed VmRSS (KiB) of the given processes and all their descendants. */
export function treeRssKiB(pids: readonly number[]): number {
  const all = new Set<number>();
  for (const pid of pids) {
    all.add(pid);
    for (const d of descendants(pid)) all.add(d);
  }
  let total = 0;
  for (const pid of all) total += rssKiB(pid) ?? 0;
  return total;
}
