/**
 * Image members: the projects a `shared` image is shared with, and their acceptance status.
 * Only the owner (or an admin) adds and removes members; only the member (or an admin) sets its
 * status; the owner sees every member, a member sees only itself.
 */
import { Fault, badRequest, conflict, forbidden, notFound, tooLarge } from '../platform/http/faults.js';
import { isUniqueViolation } from '../platform/db/connect.js';
import type { Caller, ImageContext } from './context.js';
import { getVisible, targetOf } from './images.js';
import { now, type LoadedImage } from './repo.js';
import { apiTime } from './view.js';
import type { ImageMemberRow } from './store/schema.js';

const STATUSES = ['pending', 'accepted', 'rejected'];

/** A member as the API shows it. */
export const memberView = (m: ImageMemberRow) => ({
  member_id: m.member, image_id: m.image_id, status: m.status,
  created_at: apiTime(m.created_at), updated_at: apiTime(m.updated_at), schema: '/v2/schemas/member',
});

const lookupImage = (ctx: ImageContext, caller: Caller, id: string) => getVisible(ctx, caller, id, `Image ${id} not found.`);

/** Glance's `_check_visibility_and_ownership`; throws a Forbidden fault with its message. */
function checkShared(caller: Caller, img: LoadedImage, check?: 'create' | 'update' | 'delete'): void {
  if (img.row.visibility !== 'shared') throw forbidden('Only shared images have members.');
  if (caller.isAdmin) return;
  const owner = img.row.owner;
  if (check === 'create' && (owner === null || owner !== caller.projectId)) throw forbidden('You are not permitted to create image members for the image.');
  if (check === 'update' && caller.projectId === owner) throw forbidden("You are not permitted to modify 'status' on this image member.");
  if (check === 'delete' && caller.projectId !== owner) throw forbidden('You cannot delete image member.');
}

/** Members the caller may see: all for the owner or an admin, else only its own membership. */
async function visibleMembers(ctx: ImageContext, caller: Caller, img: LoadedImage, memberId?: string): Promise<ImageMemberRow[]> {
  let q = ctx.db.selectFrom('image_member').selectAll().where('image_id', '=', img.row.id);
  if (memberId !== undefined) q = q.where('member', '=', memberId);
  if (!caller.isAdmin && img.row.owner !== caller.projectId) {
    if (caller.projectId === null) return [];
    q = q.where('member', '=', caller.projectId);
  }
  return q.orderBy('created_at').orderBy('member').execute();
}

/** Re-words a Forbidden fault as the member API does; other errors pass. */
const reword = (err: unknown, message: string): unknown => (err instanceof Fault && err.status === 403 ? forbidden(message) : err);

async function lookupMember(ctx: ImageContext, caller: Caller, img: LoadedImage, memberId: string): Promise<ImageMemberRow> {
  if (!ctx.allows(caller, 'get_member', await targetOf(ctx, caller, img))) {
    throw forbidden(`You are not authorized to lookup the members of the image ${img.row.id}.`);
  }
  const [m] = await visibleMembers(ctx, caller, img, memberId);
  if (!m) throw notFound(`${memberId} not found in the member list of the image ${img.row.id}.`);
  return m;
}

/** `POST /v2/images/{id}/members`. */
export async function addMember(ctx: ImageContext, caller: Caller, imageId: string, body: unknown) {
  if (body === undefined) throw badRequest('Body expected in request.');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Expected a member in the form: {"member": "image_id"}');
  if (!Object.hasOwn(body, 'member')) throw badRequest('Member to be added not specified');
  const memberId = (body as { member: unknown }).member;
  if (!memberId) throw badRequest("Member can't be empty");
  if (typeof memberId !== 'string' || memberId.length > 255) throw badRequest('Expected a member in the form: {"member": "image_id"}');
  const img = await lookupImage(ctx, caller, imageId);
  try {
    checkShared(caller, img, 'create');
    ctx.enforce(caller, 'add_member', await targetOf(ctx, caller, img));
  } catch (err) { throw reword(err, `Not allowed to create members for image ${imageId}.`); }
  const quota = ctx.config.image.image_member_quota;
  if (quota >= 0) {
    const count = (await ctx.db.selectFrom('image_member').select('member').where('image_id', '=', imageId).execute()).length;
    if (count + 1 > quota) {
      throw tooLarge(`Image member limit exceeded for image ${imageId}: The limit has been exceeded on the number of allowed `
        + `image members for this image. Attempted: ${count + 1}, Maximum: ${quota}:`);
    }
  }
  const t = now();
  const row: ImageMemberRow = { image_id: imageId, member: memberId, status: 'pending', created_at: t, updated_at: t };
  try {
    await ctx.db.insertInto('image_member').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Member ${memberId} is duplicated for image ${imageId}`);
    throw err;
  }
  ctx.notify('image.member.create', memberView(row));
  return memberView(row);
}

/** `GET /v2/images/{id}/members`. */
export async function listMembers(ctx: ImageContext, caller: Caller, imageId: string) {
  const img = await lookupImage(ctx, caller, imageId);
  try {
    checkShared(caller, img);
    ctx.enforce(caller, 'get_members', await targetOf(ctx, caller, img));
  } catch (err) {
    if (err instanceof Fault && err.status === 403) throw forbidden(`Not allowed to list members for image ${imageId}: ${err.message}`);
    throw err;
  }
  const members = await visibleMembers(ctx, caller, img);
  return { members: members.map(memberView), schema: '/v2/schemas/members' };
}

/** `GET /v2/images/{id}/members/{member}`: hidden (404) rather than forbidden, as Glance. */
export async function showMember(ctx: ImageContext, caller: Caller, imageId: string, memberId: string) {
  const img = await lookupImage(ctx, caller, imageId);
  try {
    checkShared(caller, img);
    return memberView(await lookupMember(ctx, caller, img, memberId));
  } catch (err) {
    if (err instanceof Fault && err.status === 403) throw notFound(err.message);
    throw err;
  }
}

/** `PUT /v2/images/{id}/members/{member}` with `{"status": …}`. */
export async function updateMember(ctx: ImageContext, caller: Caller, imageId: string, memberId: string, body: unknown) {
  if (body === undefined) throw badRequest('Body expected in request.');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Expected a status in the form: {"status": "status"}');
  if (!Object.hasOwn(body, 'status')) throw badRequest('Status not specified');
  const status = (body as { status: unknown }).status;
  const img = await lookupImage(ctx, caller, imageId);
  let member: ImageMemberRow;
  try {
    checkShared(caller, img, 'update');
    member = await lookupMember(ctx, caller, img, memberId);
    ctx.enforce(caller, 'modify_member', { ...(await targetOf(ctx, caller, img)), member_id: member.member });
  } catch (err) { throw reword(err, `Not allowed to update members for image ${imageId}.`); }
  if (typeof status !== 'string' || !STATUSES.includes(status)) throw badRequest(`Incorrect request: Invalid status value: ${String(status)}`);
  const t = now();
  await ctx.db.updateTable('image_member').set({ status, updated_at: t })
    .where('image_id', '=', imageId).where('member', '=', member.member).execute();
  const updated = { ...member, status, updated_at: t };
  ctx.notify('image.member.update', memberView(updated));
  return memberView(updated);
}

/** `DELETE /v2/images/{id}/members/{member}`. */
export async function deleteMember(ctx: ImageContext, caller: Caller, imageId: string, memberId: string): Promise<void> {
  const img = await lookupImage(ctx, caller, imageId);
  let member: ImageMemberRow;
  try {
    checkShared(caller, img, 'delete');
    member = await lookupMember(ctx, caller, img, memberId);
    ctx.enforce(caller, 'delete_member', await targetOf(ctx, caller, img));
  } catch (err) { throw reword(err, `Not allowed to delete members for image ${imageId}.`); }
  await ctx.db.deleteFrom('image_member').where('image_id', '=', imageId).where('member', '=', member.member).execute();
  ctx.notify('image.member.delete', memberView(member));
}
