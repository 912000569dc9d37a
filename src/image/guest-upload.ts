/**
 * First start of the all-in-one: builds the Nephos guest (cached) and uploads it as public images
 * unless images of those names exist: `nephos-guest` (qcow2 disk), `nephos-guest-kernel` (aki),
 * `nephos-guest-ramdisk` (ari) and `nephos-guest-direct` (ami, raw disk, with kernel_id and
 * ramdisk_id). Uploads go through the image domain, so the format checks apply to them too.
 */
import { createReadStream, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuest } from '../guest/build.js';
import { convertToRaw } from './formats/index.js';
import type { Caller, ImageContext } from './context.js';
import { createImage, deleteImage } from './images.js';
import { uploadData } from './transfer.js';

export interface GuestUploadOptions {
  /** Project owning the images (the admin project). */
  readonly ownerProjectId: string;
  /** Stops between steps (the cloud is closing). */
  readonly signal?: AbortSignal;
  /** Where the guest is built and cached (default <state_dir>/guest). */
  readonly outDir?: string;
}

/** The service acting as an admin of the owner project. */
const serviceCaller = (project: string): Caller => ({
  userId: 'nephos', projectId: project, isAdmin: true,
  creds: { user_id: 'nephos', project_id: project, roles: ['admin', 'member', 'reader'], is_admin: true },
});

async function exists(ctx: ImageContext, name: string): Promise<string | undefined> {
  const r = await ctx.db.selectFrom('image').select('id').where('name', '=', name).where('status', 'in', ['active', 'deactivated']).executeTakeFirst();
  return r?.id;
}

/** Creates and uploads one image; a failed upload removes the half-made image. */
async function upload(ctx: ImageContext, caller: Caller, body: Record<string, unknown>, file: string): Promise<string> {
  const view = await createImage(ctx, caller, body);
  try {
    await uploadData(ctx, caller, view.id, createReadStream(file));
  } catch (err) {
    await deleteImage(ctx, caller, view.id).catch(() => undefined);
    throw err;
  }
  ctx.log.info({ imageId: view.id, name: body.name }, 'guest image uploaded');
  return view.id;
}

/** Uploads whichever of the four guest images is missing; returns their ids by name. */
export async function uploadGuestImages(ctx: ImageContext, opts: GuestUploadOptions): Promise<Record<string, string>> {
  const names = ['nephos-guest', 'nephos-guest-kernel', 'nephos-guest-ramdisk', 'nephos-guest-direct'];
  const ids: Record<string, string> = {};
  for (const n of names) { const id = await exists(ctx, n); if (id) ids[n] = id; }
  if (names.every((n) => ids[n])) return ids;
  const outDir = opts.outDir ?? join(ctx.config.platform.state_dir, 'guest');
  const guest = await buildGuest({ outDir, log: ctx.log });
  const caller = serviceCaller(opts.ownerProjectId);
  const stop = () => opts.signal?.throwIfAborted();
  const common = { visibility: 'public', tags: ['nephos'], nephos_guest_version: guest.version };
  stop();
  ids['nephos-guest'] ??= await upload(ctx, caller, { ...common, name: 'nephos-guest', disk_format: 'qcow2', container_format: 'bare' }, guest.disk);
  stop();
  ids['nephos-guest-kernel'] ??= await upload(ctx, caller, { ...common, name: 'nephos-guest-kernel', disk_format: 'aki', container_format: 'aki' }, guest.kernel);
  stop();
  ids['nephos-guest-ramdisk'] ??= await upload(ctx, caller, { ...common, name: 'nephos-guest-ramdisk', disk_format: 'ari', container_format: 'ari' }, guest.ramdisk);
  stop();
  if (!ids['nephos-guest-direct']) {
    const raw = join(outDir, `disk-${guest.version}.raw`);
    if (!existsSync(raw)) {
      // Converted under a temporary name, so an interrupted conversion is never taken as done.
      await convertToRaw(guest.disk, `${raw}.partial`, { sourceFormat: 'qcow2' });
      renameSync(`${raw}.partial`, raw);
    }
    stop();
    ids['nephos-guest-direct'] = await upload(ctx, caller, {
      ...common, name: 'nephos-guest-direct', disk_format: 'ami', container_format: 'ami',
      kernel_id: ids['nephos-guest-kernel'], ramdisk_id: ids['nephos-guest-ramdisk'], os_command_line: guest.cmdline,
    }, raw);
  }
  return ids;
}
