/**
 * `createImage`: a server's root disk as a new image. As in Nova, the API makes the image record
 * at once (so it can answer with its id): the instance's image properties inherited, Nova's own
 * (`image_type`, `instance_uuid`, `base_image_ref`, `user_id`), the caller's metadata, the
 * instance's minimum RAM and disk; qcow2 in a bare container, private to the caller's project
 * (shared with the instance's project when an admin snapshots someone else's server). The host's
 * agent then takes the snapshot and uploads it (agent.snapshot). Shelve uses the same record.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '../faults.js';
import { atLeast, isLegacy } from '../api/http.js';
import { metadata as metadataSchema, name as nameSchema, nameWithSpaces, validateBody } from '../api/schema.js';
import type { Caller } from '../context.js';
import type { ImageClient, ImageRecord } from '../clients/image.js';
import { ServiceCallError } from '../clients/service-auth.js';
import type { Instance } from './store.js';
import { VM } from './states.js';
import { startAction } from './actions-log.js';
import { serversDb, visibleInstance, type ServersApiDeps } from './api.js';
import { agentOf, beginTask, checkState, requestIdOf, type StateRule } from './action-guard.js';

/** Properties never inherited by a snapshot (Nova's NON_INHERITABLE_IMAGE_PROPERTIES and the default non_inheritable_image_properties). */
const NON_INHERITABLE = new Set([
  'cinder_encryption_key_id', 'cinder_encryption_key_deletion_policy', 'img_signature', 'img_signature_hash_method', 'img_signature_key_type',
  'img_signature_certificate_uuid', 'cache_in_nova', 'bittorrent',
]);

/** The image record Nova makes for a snapshot (or a shelve) of `inst`, requested by `caller`. */
export function snapshotImageMeta(inst: Instance, caller: Caller, name: string, extra: Readonly<Record<string, string>> = {}): Record<string, unknown> {
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(inst.body.image.properties)) if (!NON_INHERITABLE.has(k) && !k.startsWith('os_glance')) props[k] = v;
  Object.assign(props, { base_image_ref: inst.image_ref, image_type: 'snapshot', instance_uuid: inst.uuid, user_id: caller.userId });
  const own = caller.projectId === inst.project_id;
  if (!own) props.instance_owner = inst.project_id;
  Object.assign(props, extra);
  return {
    ...props, name, disk_format: 'qcow2', container_format: 'bare', visibility: own ? 'private' : 'shared', owner: caller.projectId || inst.project_id,
    min_ram: inst.body.image.min_ram ?? 0, min_disk: Math.max(inst.body.image.min_disk ?? 0, inst.body.flavor.root_gb),
  };
}

/** Creates the (queued) snapshot image; the image service's refusals are Nova's 400 (403 for its quota). */
export async function createSnapshotImage(images: ImageClient, inst: Instance, caller: Caller, name: string, extra: Readonly<Record<string, string>> = {}): Promise<ImageRecord> {
  const meta = snapshotImageMeta(inst, caller, name, extra);
  let img: ImageRecord;
  try {
    img = await images.create(meta);
  } catch (err) {
    if (err instanceof ServiceCallError && err.status === 413) throw forbidden(`Image quota exceeded: ${imageMessage(err)}`);
    if (err instanceof ServiceCallError && err.status >= 400 && err.status < 500) throw badRequest(`Invalid image metadata: ${imageMessage(err)}`);
    throw err;
  }
  if (meta.visibility === 'shared') {
    // Glance's client in Nova makes the instance's project a member, so its owner sees the image.
    await images.api.call('POST', `/v2/images/${img.id}/members`, { body: { member: inst.project_id }, what: 'share snapshot' })
      .catch(async (err: unknown) => { await images.delete(img.id).catch(() => undefined); throw err; });
  }
  return img;
}

/** The image service's own message from an error body (Glance's HTML-ish or JSON faults). */
function imageMessage(err: ServiceCallError): string {
  try {
    const j = JSON.parse(err.body) as Record<string, any>;
    return String(j.message ?? j.error?.message ?? j.title ?? err.body).slice(0, 255);
  } catch {
    return err.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 255);
  }
}

/** Where Nova's pre-2.45 createImage points its Location header: the image in the image service. */
export const imageLocation = (images: ImageClient, id: string): string => `${images.api.baseUrl.replace(/\/$/, '')}/images/${id}`;

/**
 * Starts an action that fills `image` from the instance (createImage, createBackup, shelve): the
 * instance into `task` under `rule` (the image goes again when that is refused), and the action
 * logged. Returns the request id the host's work carries.
 */
export async function beginImageTask(d: ServersApiDeps, caller: Caller, inst: Instance, image: ImageRecord, action: string, rule: StateRule, task: string): Promise<string> {
  const db = serversDb(d.ctx);
  try {
    await beginTask(db, action, inst, rule, { task_state: task });
  } catch (err) {
    await d.images.delete(image.id).catch(() => undefined);
    throw err;
  }
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action, projectId: inst.project_id, userId: caller.userId });
  return rid;
}

const SNAPSHOT_RULE: StateRule = { vmStates: [VM.active, VM.stopped, VM.paused, VM.suspended] };

/** `createImage`: 202 with `{"image_id"}` (2.45+) or a Location header (before). Locks do not stop it, as in Nova. */
export async function createImageAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({
    type: 'object',
    properties: {
      createImage: { type: 'object', properties: { name: isLegacy(req) ? nameWithSpaces : nameSchema, metadata: metadataSchema }, required: ['name'], additionalProperties: false },
    },
    required: ['createImage'], additionalProperties: false,
  }, req.body);
  const body = (req.body as { createImage: { name: string; metadata?: Record<string, string> } }).createImage;
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:servers:create_image');
  const metadata = body.metadata ?? {};
  const limit = d.ctx.config.compute.quota_metadata_items;
  if (!atLeast(req, '2.39') && limit >= 0 && Object.keys(metadata).length > limit) throw forbidden('Image metadata limit exceeded');
  checkState('createImage', inst, SNAPSHOT_RULE);
  const agent = agentOf(d, inst);
  const image = await createSnapshotImage(d.images, inst, caller, body.name.trim(), metadata);
  const rid = await beginImageTask(d, caller, inst, image, 'createImage', SNAPSHOT_RULE, 'image_snapshot_pending');
  d.background('snapshot', async () => { await agent.snapshot(inst.uuid, rid, image.id); });
  reply.status(202);
  if (atLeast(req, '2.45')) return { image_id: image.id };
  reply.header('location', imageLocation(d.images, image.id));
  return reply.send();
}
