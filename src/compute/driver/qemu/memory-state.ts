/**
 * Suspend and resume (Nova's suspend, libvirt's managed save): the guest's memory and device state
 * go to a file with QEMU's migration stream, and the process ends; resuming starts QEMU with the
 * same command line plus `-incoming` reading that file, and the guest continues where it was.
 *
 * QEMU 7.2 (Debian 12) has no `file:` migration URI (QEMU 8.2+), so the stream goes through
 * `exec:cat`. The vCPUs are stopped first, so one pass writes a consistent state (the disks are
 * flushed by the stop); the migration bandwidth cap (128 MiB/s by default) is lifted for it.
 */
import { access, open, rename, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ComputeDriverError } from '../errors.js';
import { withQmp, type QmpClient } from './qmp.js';
import { waitGone } from './power.js';

/** A path as one word of /bin/sh (QEMU runs exec: URIs through `sh -c`). */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The -incoming URI that restores from `file`. */
export const incomingUri = (file: string): string => `exec:cat ${shellQuote(file)}`;

interface MigrateInfo { status?: string; 'error-desc'?: string; ram?: { transferred?: number } }

async function waitMigration(q: QmpClient, timeoutMs: number): Promise<MigrateInfo> {
  const until = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000_000; i++) {
    const info = await q.execute<MigrateInfo>('query-migrate');
    if (info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled') return info;
    if (Date.now() >= until) {
      await q.execute('migrate_cancel').catch(() => undefined);
      throw new ComputeDriverError('Timeout', `saving the memory took longer than ${timeoutMs / 1000} s`);
    }
    await sleep(50);
  }
  throw new ComputeDriverError('Timeout', 'saving the memory did not finish');
}

/**
 * Saves the memory of the QEMU behind `qmpPath` into `file` and ends the process. On failure the
 * guest runs on as before (when it ran) and no file is left.
 */
export async function saveMemory(qmpPath: string, pid: number, file: string, timeoutMs: number): Promise<{ bytes: number }> {
  const part = `${file}.part`;
  // `cat` writes what is still in the pipe after the migration "completed": it marks the end of
  // its writing, which alone says the file is whole (a busy host showed truncated states).
  const written = `${file}.written`;
  await rm(part, { force: true });
  await rm(written, { force: true });
  const bytes = await withQmp(qmpPath, async (q) => {
    const { running } = await q.execute<{ running: boolean }>('query-status');
    if (running) await q.execute('stop');
    try {
      await q.execute('migrate-set-parameters', { 'max-bandwidth': 1e12 });
      await q.execute('migrate', { uri: `exec:cat > ${shellQuote(part)} && : > ${shellQuote(written)}` });
      const info = await waitMigration(q, timeoutMs);
      if (info.status !== 'completed') throw new ComputeDriverError('HypervisorError', `saving the memory failed: ${info['error-desc'] ?? info.status}`);
      // QEMU closed the stream when the migration completed; the guest ends only once the file is whole.
      if (!await appears(written, 30_000)) throw new ComputeDriverError('HypervisorError', 'saving the memory failed: the state file was not written to its end');
      await q.execute('quit').catch(() => undefined);
      return info.ram?.transferred ?? 0;
    } catch (err) {
      await rm(part, { force: true });
      await rm(written, { force: true });
      if (running) await q.execute('cont').catch(() => undefined);
      throw err;
    }
  }, { timeoutMs: 10_000 });
  if (!await waitGone(pid, 15_000)) throw new ComputeDriverError('HypervisorError', `QEMU (pid ${pid}) did not exit after saving its memory`);
  await rm(written, { force: true });
  const fh = await open(part, 'r+');
  try { await fh.sync(); } finally { await fh.close(); }
  await rename(part, file);
  return { bytes };
}

/** Whether `path` exists within `ms` (polled). */
async function appears(path: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (let i = 0; i < 100_000; i++) {
    if (await access(path).then(() => true, () => false)) return true;
    if (Date.now() >= until) return false;
    await sleep(20);
  }
  return false;
}

/**
 * Waits until the QEMU started with `-incoming` has loaded its memory, then lets the guest run
 * (the state was saved with stopped vCPUs, so QEMU lands paused).
 */
export async function finishRestore(qmpPath: string, pid: number, timeoutMs: number): Promise<void> {
  try {
    await waitRestored(qmpPath, timeoutMs);
  } catch (err) {
    // QEMU ends itself when the stream is damaged or does not fit the machine: say so.
    if (!(err instanceof ComputeDriverError) && await waitGone(pid, 2000)) {
      throw new ComputeDriverError('HypervisorError', 'QEMU exited while restoring the saved memory (damaged or incompatible state file)', { cause: err });
    }
    throw err;
  }
}

async function waitRestored(qmpPath: string, timeoutMs: number): Promise<void> {
  await withQmp(qmpPath, async (q) => {
    const until = Date.now() + timeoutMs;
    for (let i = 0; i < 1_000_000; i++) {
      const { status } = await q.execute<{ status: string }>('query-status');
      if (status !== 'inmigrate') {
        if (status === 'paused' || status === 'postmigrate' || status === 'prelaunch') await q.execute('cont');
        else if (status !== 'running') throw new ComputeDriverError('HypervisorError', `restoring the saved memory left QEMU in state ${status}`);
        return;
      }
      if (Date.now() >= until) throw new ComputeDriverError('Timeout', `restoring the memory took longer than ${timeoutMs / 1000} s`);
      await sleep(50);
    }
  }, { timeoutMs: 10_000 });
}
