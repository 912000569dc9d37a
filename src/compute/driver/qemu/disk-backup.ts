/**
 * A point-in-time copy of a running instance's root disk, the guest running on: QMP
 * blockdev-backup (sync=full) from the root disk's node into a new qcow2 file. The job copies
 * before-write, so the copy is the disk exactly as it was when the job started (crash-consistent,
 * like a power cut at that instant), including what the overlay reads from its base: a
 * standalone image.
 *
 * Chosen over "stop, qemu-img convert -U, cont", which is consistent too but freezes the guest
 * for as long as the copy takes (minutes for large disks).
 */
import { randomBytes } from 'node:crypto';
import { ComputeDriverError } from '../errors.js';
import { createImage } from './qemu-img.js';
import { withQmp } from './qmp.js';

/** Copies node `node` of the QEMU behind `qmpPath` (a disk of `virtualSize` bytes) into a new qcow2 `target`. */
export async function backupDisk(qmpPath: string, node: string, virtualSize: number, target: string, timeoutMs: number): Promise<void> {
  await createImage(target, 'qcow2', virtualSize);
  const tag = randomBytes(4).toString('hex');
  const targetNode = `snap-${tag}`;
  const job = `backup-${tag}`;
  await withQmp(qmpPath, async (q) => {
    await q.execute('blockdev-add', { driver: 'qcow2', 'node-name': targetNode, file: { driver: 'file', filename: target } });
    try {
      const since = q.mark();
      await q.execute('blockdev-backup', { 'job-id': job, device: node, target: targetNode, sync: 'full' });
      const ev = await q.waitEvent(['BLOCK_JOB_COMPLETED', 'BLOCK_JOB_CANCELLED'], { since, match: (d) => d.device === job, timeoutMs });
      if (ev.event !== 'BLOCK_JOB_COMPLETED' || ev.data.error) {
        throw new ComputeDriverError('HypervisorError', `disk backup failed: ${String(ev.data.error ?? 'cancelled')}`);
      }
    } catch (err) {
      await q.execute('block-job-cancel', { device: job, force: true }).catch(() => undefined);
      throw err;
    } finally {
      await q.execute('blockdev-del', { 'node-name': targetNode }).catch(() => undefined);
    }
  }, { timeoutMs: 10_000 });
}
