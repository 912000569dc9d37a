/**
 * The image domain: create, show, list, update (JSON patch), delete, deactivate/reactivate and
 * tags, with Glance's visibility rules, legacy ownership checks, policy and quotas.
 */
import { randomUUID } from 'node:crypto';
import { Fault, badRequest, conflict, forbidden, notFound, tooLarge } from '../platform/http/faults.js';
import { isUniqueViolation } from '../platform/db/connect.js';
import { checkPropertyValue, enforcePropertyQuota, enforceTagQuota, validateCreate } from './properties.js';
import { applyPatch, parsePatch } from './patch.js';
import { type Caller, type ImageContext, checkMutable, imageNotFound, imageTarget } from './context.js';
import { findRow, loadDetails, loadImage, now, transition, viewOf, writeProperties, writeTags, type LoadedImage } from './repo.js';
import { parseListQuery, selectImages } from './list-query.js';
import { enforceQuota } from './quotas.js';
import type { ImageRow } from './store/schema.js';
import type { ImageView } from './view.js';

/** Glance's `limit_param_default` and `api_limit_max`. */
export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;

/** One page of `GET /v2/images`. */
export interface ImagePage { readonly images: ImageView[]; readonly nextMarker?: string }

/** Whether the caller may see an image (Glance's `is_image_visible`). */
export async function canSee(ctx: ImageContext, caller: Caller, row: ImageRow): Promise<boolean> {
  if (caller.isAdmin || row.owner === null) return true;
  if (row.visibility === 'public' || row.visibility === 'community') return true;
  if (caller.projectId === null) return false;
  if (row.owner === caller.projectId) return true;
  if (row.visibility !== 'shared') return false;
  return !!(await ctx.db.selectFrom('image_member').select('member')
    .where('image_id', '=', row.id).where('member', '=', caller.projectId).executeTakeFirst());
}

/** The image if it exists and the caller may see it, else 404 (`message` to word it otherwise). */
export async function getVisible(ctx: ImageContext, caller: Caller, id: string, message?: string): Promise<LoadedImage> {
  const img = await loadImage(ctx.db, id);
  if (!img || !(await canSee(ctx, caller, img.row))) throw message ? notFound(message) : imageNotFound(id);
  return img;
}

/** The policy target of a loaded image, with the caller as `member_id` when it is a member. */
export async function targetOf(ctx: ImageContext, caller: Caller, img: LoadedImage) {
  let member: string | null = null;
  if (caller.projectId !== null && img.row.visibility === 'shared') {
    const m = await ctx.db.selectFrom('image_member').select('member')
      .where('image_id', '=', img.row.id).where('member', '=', caller.projectId).executeTakeFirst();
    member = m?.member ?? null;
  }
  return imageTarget(img.row, img.extra, member);
}

/**
 * Glance's `ImageAPIPolicy._enforce`: a denied rule is 404 when the caller cannot even get the
 * image (hiding it), else 403; then the legacy admin-or-owner check for changes.
 */
export async function authorize(ctx: ImageContext, caller: Caller, img: LoadedImage, rule: string, opts: { mutable?: boolean } = {}): Promise<void> {
  const target = await targetOf(ctx, caller, img);
  if (!ctx.allows(caller, rule, target)) {
    if (rule === 'get_image' || !ctx.allows(caller, 'get_image', target)) throw imageNotFound(img.row.id);
    throw forbidden(`You are not authorized to complete ${rule} action.`);
  }
  if (opts.mutable) checkMutable(caller, img.row);
}

/** Policy for visibility values (`publicize_image`, `communitize_image`). */
function enforceVisibility(ctx: ImageContext, caller: Caller, visibility: string | undefined, target: Record<string, unknown>): void {
  if (visibility === 'public') ctx.enforce(caller, 'publicize_image', target);
  else if (visibility === 'community') ctx.enforce(caller, 'communitize_image', target);
}

/** A notification payload (Glance's image notification: the view plus deletion fields). */
export const notification = (view: ImageView, deleted = false): Record<string, unknown> => ({
  ...view, deleted, deleted_at: deleted ? new Date().toISOString() : null,
});

/** `POST /v2/images`. */
export async function createImage(ctx: ImageContext, caller: Caller, body: unknown): Promise<ImageView> {
  const req = validateCreate(body, { isAdmin: caller.isAdmin, projectId: caller.projectId });
  const owner = Object.hasOwn(req.core, 'owner') ? (req.core.owner ?? null) : caller.projectId;
  const visibility = req.core.visibility ?? 'shared';
  const target = { project_id: owner, owner, visibility: req.core.visibility ?? 'private' };
  if (!ctx.allows(caller, 'add_image', target)) {
    throw forbidden(owner !== caller.projectId ? `You are not permitted to create images owned by '${owner ?? ''}'`
      : 'You are not authorized to complete add_image action.');
  }
  enforceVisibility(ctx, caller, req.core.visibility, target);
  await enforceQuota(ctx.db, ctx.config, caller.projectId, 'image_count_total', 1);
  enforcePropertyQuota(req.extra, ctx.config.image.image_property_quota);
  enforceTagQuota(req.tags, ctx.config.image.image_tag_quota);

  const id = req.core.id ?? randomUUID();
  const t = now();
  const row: ImageRow = {
    id, name: req.core.name ?? null, status: 'queued', visibility, protected: req.core.protected ? 1 : 0,
    os_hidden: req.core.os_hidden ? 1 : 0, checksum: null, os_hash_algo: null, os_hash_value: null, owner,
    size: null, virtual_size: null, min_ram: req.core.min_ram ?? 0, min_disk: req.core.min_disk ?? 0,
    container_format: req.core.container_format ?? null, disk_format: req.core.disk_format ?? null,
    created_at: t, updated_at: t, location: null, stage_location: null, stage_info: null,
  };
  try {
    await ctx.db.transaction().execute(async (tx) => {
      await tx.insertInto('image').values(row).execute();
      await writeProperties(tx, id, req.extra);
      await writeTags(tx, id, req.tags);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Image with identifier ${id} already exists!`);
    throw err;
  }
  const view = viewOf({ row, extra: { ...req.extra }, tags: [...req.tags] });
  ctx.notify('image.create', notification(view));
  return view;
}

/** `GET /v2/images/{id}`. */
export async function showImage(ctx: ImageContext, caller: Caller, id: string): Promise<ImageView> {
  const img = await getVisible(ctx, caller, id);
  await authorize(ctx, caller, img, 'get_image');
  return viewOf(img);
}

/** `GET /v2/images`: one page for the caller. */
export async function listImages(ctx: ImageContext, caller: Caller, params: URLSearchParams): Promise<ImagePage> {
  const q = parseListQuery(params, { defaultLimit: DEFAULT_LIMIT, maxLimit: MAX_LIMIT });
  ctx.enforce(caller, 'get_images', { project_id: caller.projectId });
  let markerRow: ImageRow | undefined;
  if (q.marker !== undefined) {
    markerRow = await findRow(ctx.db, q.marker);
    if (!markerRow || !(await canSee(ctx, caller, markerRow))) throw badRequest(`No image found with ID ${q.marker}`);
  }
  const rows = await selectImages(ctx.db, caller, q, markerRow);
  const details = await loadDetails(ctx.db, rows.map((r) => r.id));
  const images: ImageView[] = [];
  for (const row of rows) {
    const img = { row, ...details.get(row.id)! };
    if (ctx.allows(caller, 'get_image', imageTarget(row, img.extra))) images.push(viewOf(img));
  }
  const nextMarker = images.length > 0 && rows.length === q.limit ? images[images.length - 1]!.id : undefined;
  return { images, nextMarker };
}

/** `PATCH /v2/images/{id}` with a JSON-patch media type. */
export async function updateImage(ctx: ImageContext, caller: Caller, id: string, body: unknown, contentType: string | undefined): Promise<ImageView> {
  const ops = parsePatch(body, contentType);
  const img = await getVisible(ctx, caller, id);
  if (ops.length === 0) return viewOf(img);
  await authorize(ctx, caller, img, 'modify_image', { mutable: true });
  const result = applyPatch(viewOf(img), ops, { isAdmin: caller.isAdmin });
  if (result.core.visibility !== undefined) enforceVisibility(ctx, caller, result.core.visibility, await targetOf(ctx, caller, img));
  if (result.addedNewProperties) enforcePropertyQuota(result.extra, ctx.config.image.image_property_quota);
  if (result.tags) enforceTagQuota(result.tags, ctx.config.image.image_tag_quota);

  const changes: Partial<ImageRow> = {};
  for (const [k, v] of Object.entries(result.core)) {
    if (k === 'protected' || k === 'os_hidden') (changes as Record<string, unknown>)[k] = v ? 1 : 0;
    else (changes as Record<string, unknown>)[k] = v;
  }
  await ctx.db.transaction().execute(async (tx) => {
    const r = await tx.updateTable('image').set({ ...changes, updated_at: now() }).where('id', '=', id).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw imageNotFound(id);
    await writeProperties(tx, id, result.setExtra, result.removedExtra);
    if (result.tags) await writeTags(tx, id, result.tags);
  });
  const view = viewOf((await loadImage(ctx.db, id)) ?? img);
  ctx.notify('image.update', notification(view));
  return view;
}

/** Removes data an image no longer owns; failures are logged (the file is an orphan, not an error). */
export async function discardData(ctx: ImageContext, location: string | null, staged: string | null): Promise<void> {
  for (const [store, loc] of [[ctx.store, location], [ctx.staging, staged]] as const) {
    if (!loc) continue;
    await store.delete(loc).catch((err: unknown) => ctx.log.warn({ err, location: loc }, 'image data not removed'));
  }
}

/** `DELETE /v2/images/{id}`. */
export async function deleteImage(ctx: ImageContext, caller: Caller, id: string): Promise<void> {
  const img = await getVisible(ctx, caller, id);
  await authorize(ctx, caller, img, 'delete_image', { mutable: true });
  if (img.row.protected === 1) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
  const gone = await ctx.db.selectFrom('image').select(['location', 'stage_location']).where('id', '=', id).executeTakeFirst();
  await ctx.db.deleteFrom('image').where('id', '=', id).execute();
  await discardData(ctx, gone?.location ?? null, gone?.stage_location ?? null);
  ctx.notify('image.delete', notification(viewOf(img), true));
}

/** `POST /v2/images/{id}/actions/deactivate`. */
export async function deactivateImage(ctx: ImageContext, caller: Caller, id: string): Promise<void> {
  const img = await getVisible(ctx, caller, id);
  await authorize(ctx, caller, img, 'deactivate', { mutable: true });
  if (img.row.status === 'deactivated') return;
  if (img.row.status !== 'active' || !(await transition(ctx.db, id, 'active', { status: 'deactivated' }))) {
    throw forbidden(`Not allowed to deactivate image in status '${img.row.status}'`);
  }
  ctx.notify('image.update', notification({ ...viewOf(img), status: 'deactivated' }));
}

/** `POST /v2/images/{id}/actions/reactivate`. */
export async function reactivateImage(ctx: ImageContext, caller: Caller, id: string): Promise<void> {
  const img = await getVisible(ctx, caller, id);
  await authorize(ctx, caller, img, 'reactivate', { mutable: true });
  if (img.row.status === 'active') return;
  if (img.row.status !== 'deactivated' || !(await transition(ctx.db, id, 'deactivated', { status: 'active' }))) {
    throw forbidden(`Not allowed to reactivate image in status '${img.row.status}'`);
  }
  ctx.notify('image.update', notification({ ...viewOf(img), status: 'active' }));
}

/** `PUT /v2/images/{id}/tags/{tag}`. */
export async function addTag(ctx: ImageContext, caller: Caller, id: string, tag: string): Promise<void> {
  checkPropertyValue('tags', [tag]);
  const img = await getVisible(ctx, caller, id, `Image ${id} not found.`);
  await authorize(ctx, caller, img, 'modify_image', { mutable: true });
  if (img.tags.includes(tag)) return;
  try {
    enforceTagQuota([...img.tags, tag], ctx.config.image.image_tag_quota);
  } catch (err) {
    if (err instanceof Fault) throw tooLarge(`Image tag limit exceeded for image ${id}: ${err.message}:`);
    throw err;
  }
  try {
    await ctx.db.insertInto('image_tag').values({ image_id: id, value: tag }).execute();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err; // a concurrent PUT of the same tag: already there
  }
  await ctx.db.updateTable('image').set({ updated_at: now() }).where('id', '=', id).execute();
}

/** `DELETE /v2/images/{id}/tags/{tag}`. */
export async function deleteTag(ctx: ImageContext, caller: Caller, id: string, tag: string): Promise<void> {
  const img = await getVisible(ctx, caller, id, `Image ${id} not found.`);
  await authorize(ctx, caller, img, 'modify_image', { mutable: true });
  if (!img.tags.includes(tag)) throw notFound('The resource could not be found.');
  await ctx.db.deleteFrom('image_tag').where('image_id', '=', id).where('value', '=', tag).execute();
  await ctx.db.updateTable('image').set({ updated_at: now() }).where('id', '=', id).execute();
}
