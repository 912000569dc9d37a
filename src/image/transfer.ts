/**
 * Image data in and out: `PUT /file` (queued → saving → active, inspected on the way),
 * `GET /file` (ranges) and `PUT /stage` (queued → uploading, into the staging area).
 * A failed or interrupted transfer leaves the image `queued` and nothing stored.
 */
import { Readable } from 'node:stream';
import { Fault, badRequest, conflict, forbidden } from '../platform/http/faults.js';
import { receiveImageData, type ReceivedData } from './data/upload.js';
import { imageDownload, type Download } from './data/download.js';
import { formatMismatch } from './formats/index.js';
import type { Caller, ImageContext } from './context.js';
import { authorize, getVisible, notification } from './images.js';
import { loadImage, transition, viewOf } from './repo.js';
import { enforceQuota } from './quotas.js';
import type { ImageRow } from './store/schema.js';

/** What staging learned about the data, kept for the import step. */
export interface StageInfo {
  readonly size: number;
  readonly checksum: string;
  readonly osHashValue: string;
  readonly inspection: ReceivedData['inspection'];
}

const statusConflict = (from: string, to: string) => conflict(`Image status transition from ${from} to ${to} is not allowed`);
const gone = (id: string) => new Fault(410, `Image ${id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.`);

/** Glance's domain rule: data needs both formats first. */
function requireFormats(row: ImageRow): void {
  const missing = (['disk_format', 'container_format'] as const).filter((k) => !row[k]);
  if (missing.length === 1) throw badRequest(`Property ${missing[0]} must be set prior to saving data.`);
  if (missing.length > 1) throw badRequest(`Properties ${missing.join(', ')} must be set prior to saving data.`);
}

/**
 * The format safety check on received data: refuse what the inspection found dangerous (backing
 * files, external data files, extents pointing at files), and data that does not match the
 * declared disk_format (or only warn when `require_format_match` is off).
 */
export function checkData(ctx: ImageContext, imageId: string, declared: string, r: Pick<ReceivedData, 'inspection'>): void {
  const { inspection } = r;
  if (inspection.problems.length > 0) throw badRequest(`Image ${imageId} refused: ${inspection.problems.join('; ')}`);
  const mismatch = formatMismatch(declared, inspection);
  if (mismatch === null) return;
  if (ctx.config.image.require_format_match) throw badRequest(mismatch);
  ctx.log.warn({ imageId, declared, detected: inspection.format, reason: mismatch }, 'image data does not match its disk_format; accepted (require_format_match is off)');
}

/** Restores an image whose transfer failed to `queued` (if it is still in `from`). */
async function restoreQueued(ctx: ImageContext, id: string, from: string): Promise<void> {
  await transition(ctx.db, id, from, { status: 'queued', size: null, virtual_size: null })
    .catch((err: unknown) => ctx.log.error({ err, imageId: id }, 'could not restore the image to queued'));
}

const bodyOf = (body: Readable | undefined): Readable => body ?? Readable.from([]);

/**
 * Claims a queued image for a transfer (queued → `busy`, after `check`), runs `receive` within
 * the project's concurrent-upload quota, and puts the image back to queued if anything fails.
 */
async function receiveClaimed(
  ctx: ImageContext, caller: Caller, id: string, row: ImageRow, busy: 'saving' | 'uploading',
  receive: () => Promise<ReceivedData>, check?: () => void,
): Promise<ReceivedData> {
  if (row.status !== 'queued') throw statusConflict(row.status, busy);
  check?.();
  if (!(await transition(ctx.db, id, 'queued', { status: busy }))) {
    const now = await loadImage(ctx.db, id);
    throw statusConflict(now?.row.status ?? 'deleted', busy);
  }
  try {
    await enforceQuota(ctx.db, ctx.config, caller.projectId, 'image_count_uploading');
    return await receive();
  } catch (err) {
    await restoreQueued(ctx, id, busy);
    throw err;
  }
}

/** `PUT /v2/images/{id}/file`. */
export async function uploadData(ctx: ImageContext, caller: Caller, id: string, body: Readable | undefined): Promise<void> {
  const room = await enforceQuota(ctx.db, ctx.config, caller.projectId, 'image_size_total');
  const img = await getVisible(ctx, caller, id);
  await authorize(ctx, caller, img, 'upload_image', { mutable: true });
  const row = img.row;
  const received = await receiveClaimed(ctx, caller, id, row, 'saving', () => {
    ctx.notify('image.prepare', notification({ ...viewOf(img), status: 'saving' }));
    return receiveImageData(bodyOf(body), {
      store: ctx.store, imageId: id, maxBytes: room, replace: true,
      accept: (r) => checkData(ctx, id, row.disk_format!, r),
    });
  }, () => requireFormats(row));
  const activated = await transition(ctx.db, id, 'saving', {
    status: 'active', size: received.size, checksum: received.checksum, os_hash_algo: received.osHashAlgo,
    os_hash_value: received.osHashValue, virtual_size: received.inspection.virtualSize, location: received.location,
  });
  if (!activated) {
    await ctx.store.delete(received.location).catch(() => undefined);
    throw gone(id);
  }
  const done = await loadImage(ctx.db, id);
  if (done) {
    ctx.notify('image.upload', notification(viewOf(done)));
    ctx.notify('image.activate', notification(viewOf(done)));
  }
}

/** `GET /v2/images/{id}/file`: null when the image has no data (Glance answers 204). */
export async function downloadData(ctx: ImageContext, caller: Caller, id: string, range?: string, contentRange?: string): Promise<Download | null> {
  const img = await getVisible(ctx, caller, id);
  if (img.row.status === 'deactivated' && !caller.isAdmin) {
    throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
  }
  await authorize(ctx, caller, img, 'download_image');
  if (!img.row.location || img.row.size === null) return null;
  return imageDownload(ctx.store, img.row.location, Number(img.row.size), img.row.checksum, range, contentRange);
}

/** `PUT /v2/images/{id}/stage`: the first half of the glance-direct import. */
export async function stageData(ctx: ImageContext, caller: Caller, id: string, body: Readable | undefined): Promise<void> {
  const img = await getVisible(ctx, caller, id);
  await authorize(ctx, caller, img, 'modify_image', { mutable: true });
  const room = await enforceQuota(ctx.db, ctx.config, caller.projectId, 'image_stage_total');
  const received = await receiveClaimed(ctx, caller, id, img.row, 'uploading',
    () => receiveImageData(bodyOf(body), { store: ctx.staging, imageId: id, maxBytes: room, replace: true }));
  const info: StageInfo = { size: received.size, checksum: received.checksum, osHashValue: received.osHashValue, inspection: received.inspection };
  const saved = await transition(ctx.db, id, 'uploading', { size: received.size, stage_location: received.location, stage_info: JSON.stringify(info) });
  if (!saved) {
    await ctx.staging.delete(received.location).catch(() => undefined);
    throw gone(id);
  }
}
