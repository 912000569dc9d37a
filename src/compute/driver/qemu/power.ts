/**
 * Power operations on a live QEMU over QMP: the ACPI power button with retries (a graceful stop),
 * quit (a clean exit of QEMU, which removes its pid file and sockets), the run state, reset and
 * stop/cont. Whether a process is ours, and killing it, is process.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from '../../../platform/host/daemon.js';
import type { PowerState } from '../types.js';
import { withQmp } from './qmp.js';

/** How often the power button is pressed again: a guest may miss a press (e.g. while it boots), as Nova's clean shutdown assumes. */
export const POWER_BUTTON_RETRY_MS = 10_000;

/** Waits (bounded by `timeoutMs`) until `pid` is gone; true when it is. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000_000; i++) {
    if (!await processAlive(pid)) return true;
    if (Date.now() >= until) return false;
    await sleep(Math.min(50, Math.max(1, until - Date.now())));
  }
  return false;
}

/**
 * Presses the ACPI power button, again every 10 s, until QEMU exits (the guest powered off:
 * without -no-shutdown QEMU then ends cleanly) or `timeoutMs` passes; true when it exited in time.
 */
export async function acpiShutdown(qmpPath: string, pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (let press = 0; press < 10_000; press++) {
    try {
      await withQmp(qmpPath, (q) => q.execute('system_powerdown'), { timeoutMs: 3000 });
    } catch {
      if (!await processAlive(pid)) return true;
    }
    const left = until - Date.now();
    if (left <= 0) return !await processAlive(pid);
    if (await waitGone(pid, Math.min(POWER_BUTTON_RETRY_MS, left))) return true;
    if (Date.now() >= until) return false;
  }
  return false;
}

/** Asks QEMU to exit (QMP quit); true when the process is gone within `timeoutMs`. */
export async function quit(qmpPath: string, pid: number, timeoutMs = 5000): Promise<boolean> {
  try {
    await withQmp(qmpPath, (q) => q.execute('quit'), { timeoutMs: Math.min(timeoutMs, 3000) });
  } catch {
    // The connection may close before the answer arrives: the process tells.
  }
  return waitGone(pid, timeoutMs);
}

/** QEMU's run state (query-status). */
export async function runState(qmpPath: string, timeoutMs = 5000): Promise<string> {
  const s = await withQmp(qmpPath, (q) => q.execute<{ status: string }>('query-status'), { timeoutMs });
  return s.status;
}

/** The power state of a live QEMU in run state `status`. */
export function powerStateOf(status: string): PowerState {
  switch (status) {
    case 'running': return 'running';
    case 'shutdown': return 'shutdown';
    case 'guest-panicked': case 'internal-error': case 'io-error': return 'crashed';
    // paused, prelaunch, inmigrate, postmigrate, finish-migrate, save-vm, restore-vm, debug,
    // watchdog, colo, and suspended (the guest's own ACPI S3 sleep): vCPUs not running, memory kept.
    default: return 'paused';
  }
}
