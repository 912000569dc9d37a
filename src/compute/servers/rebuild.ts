/**
 * `rebuild`: the server gets a new root disk from an image (its own or another), optionally a new
 * name, metadata, password, key pair (2.54), user data (2.57), trusted certificates (2.63) and
 * hostname (2.90); its ports, addresses and flavor stay. The API records the new image and
 * attributes at once (the 202 body already shows them, status REBUILD) and the host's agent
 * rebuilds: ACTIVE again, or SHUTOFF when it was stopped, or ERROR when it fails (as Nova).
 */
import { randomInt } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '../faults.js';
import { atLeast, isLegacy, selfLinks } from '../api/http.js';
import { booleanParam, metadata as metadataSchema, name as nameSchema, nameWithSpaces, toBool, validateBody, type Schema } from '../api/schema.js';
import type { Caller } from '../context.js';
import { getKeypair } from '../keypairs.js';
import { imageProperties, type ImageRecord } from '../clients/image.js';
import type { InstanceFlavor, InstanceImage, InstancePatch, Instance } from './store.js';
import { VM } from './states.js';
import { startAction } from './actions-log.js';
import { changedServer } from './view.js';
import { accessIps, checkImageVisible } from './create.js';
import { serversDb, visibleInstance, type ServersApiDeps } from './api.js';
import { agentOf, beginTask, checkLock, checkState, requestIdOf, type StateRule } from './action-guard.js';

const DESCRIPTION: Schema = { type: ['string', 'null'], minLength: 0, maxLength: 255, pattern: '^[^\\p{C}\\p{Zl}\\p{Zp}\\u{10000}-\\u{10FFFF}]*$' };

function rebuildSchema(req: FastifyRequest): Schema {
  const props: Record<string, Schema> = {
    name: isLegacy(req) ? nameWithSpaces : nameSchema,
    imageRef: { type: 'string', format: 'uuid' },
    adminPass: { type: 'string' },
    metadata: metadataSchema,
    preserve_ephemeral: booleanParam,
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    accessIPv4: { type: 'string' },
    accessIPv6: { type: 'string' },
  };
  if (atLeast(req, '2.19')) props.description = DESCRIPTION;
  if (atLeast(req, '2.54')) props.key_name = { oneOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'null' }] };
  if (atLeast(req, '2.57')) props.user_data = { type: ['string', 'null'], maxLength: 65535 };
  if (atLeast(req, '2.63')) props.trusted_image_certificates = { type: ['array', 'null'], minItems: 1, maxItems: 50, items: { type: 'string', minLength: 1 } };
  if (atLeast(req, '2.90')) props.hostname = { type: 'string', minLength: 2, maxLength: 63, pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$' };
  return {
    type: 'object',
    properties: { rebuild: { type: 'object', properties: props, required: ['imageRef'], additionalProperties: false } },
    required: ['rebuild'], additionalProperties: false,
  };
}

/** Nova's flavor/image checks (create and rebuild): RAM, disk minimums and the image's size. */
export function checkFlavorFitsImage(flavor: Pick<InstanceFlavor, 'memory_mb' | 'root_gb'>, img: Pick<ImageRecord, 'min_ram' | 'min_disk' | 'size' | 'virtual_size'>): void {
  if (flavor.memory_mb < (img.min_ram ?? 0)) throw badRequest("Flavor's memory is too small for requested image.");
  if (flavor.root_gb > 0) {
    if (flavor.root_gb < (img.min_disk ?? 0)) throw badRequest("Flavor's disk is too small for requested image.");
    const need = Math.max(img.virtual_size ?? 0, img.size ?? 0);
    if (need > flavor.root_gb * 1024 ** 3) throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${flavor.root_gb * 1024 ** 3} bytes, image is ${need} bytes.`);
  }
}

/** The image as an instance keeps it (Nova's image_* system metadata). */
export const instanceImage = (img: ImageRecord): InstanceImage => ({
  id: img.id, name: img.name ?? '', disk_format: String(img.disk_format), min_disk: img.min_disk ?? 0, min_ram: img.min_ram ?? 0, properties: imageProperties(img),
});

/** The server as the rebuild response shows it. */
export function rebuildView(req: FastifyRequest, d: ServersApiDeps, caller: Caller, inst: Instance): Record<string, unknown> {
  return changedServer(req, inst, { caller, extended: d.ctx.allows(caller, 'os_compute_api:os-extended-server-attributes') });
}

const REBUILD_RULE: StateRule = { vmStates: [VM.active, VM.stopped, VM.error] };

export async function rebuildAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody(rebuildSchema(req), req.body);
  const r = (req.body as { rebuild: Record<string, any> }).rebuild;
  const ctx = d.ctx;
  const inst = await visibleInstance(ctx, caller, id, 'os_compute_api:servers:rebuild');
  if ('trusted_image_certificates' in r) ctx.authorize(caller, 'os_compute_api:servers:rebuild:trusted_certs', { project_id: inst.project_id, user_id: inst.user_id });
  checkLock(caller, inst);
  checkState('rebuild', inst, REBUILD_RULE);
  const agent = agentOf(d, inst);

  const access = accessIps(r);
  const img = await d.images.image(r.imageRef);
  if (!img) throw badRequest('Cannot find image for rebuild');
  await checkImageVisible(d.images, img, caller).catch(() => { throw badRequest('Cannot find image for rebuild'); });
  if (img.status !== 'active') throw badRequest(`Image ${img.id} is not active.`);
  if (['aki', 'ari'].includes(String(img.disk_format))) throw badRequest(`Image ${img.id} is unacceptable: a ${img.disk_format} image cannot be booted on its own.`);
  checkFlavorFitsImage(inst.body.flavor, img);
  const limit = ctx.config.compute.quota_metadata_items;
  if (r.metadata && limit >= 0 && Object.keys(r.metadata).length > limit) throw forbidden(`Maximum number of metadata items exceeds ${limit}`);

  const body: NonNullable<InstancePatch['body']> & Record<string, unknown> = { image: instanceImage(img), progress: 0 };
  const patch: { -readonly [K in keyof InstancePatch]: InstancePatch[K] } = { task_state: 'rebuilding', image_ref: img.id };
  if (r.name !== undefined) patch.display_name = String(r.name).trim();
  if (r.metadata !== undefined) body.metadata = { ...r.metadata };
  if (r.description !== undefined) body.description = r.description;
  Object.assign(body, access);
  if (r['OS-DCF:diskConfig'] !== undefined) body.disk_config = r['OS-DCF:diskConfig'];
  if (r.hostname !== undefined) body.hostname = r.hostname;
  if ('trusted_image_certificates' in r) body.trusted_image_certificates = r.trusted_image_certificates;
  if ('key_name' in r) {
    if (r.key_name === null) {
      Object.assign(body, { key_data: null, key_type: null });
      patch.key_name = null;
    } else {
      // The caller's key pair (users own keys; another member of the project may rebuild).
      const kp = await getKeypair(ctx, caller.userId, r.key_name).catch(() => { throw badRequest('Invalid key_name provided.'); });
      Object.assign(body, { key_data: kp.public_key, key_type: kp.type });
      patch.key_name = kp.name;
    }
  }
  if ('user_data' in r) {
    if (r.user_data !== null) {
      const ud = String(r.user_data).replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(ud) || ud.length % 4 !== 0) throw badRequest('User data needs to be valid base 64.');
    }
    body.user_data = r.user_data;
  }
  patch.body = body;
  const adminPass = typeof r.adminPass === 'string' ? r.adminPass : randomPassword();

  const db = serversDb(ctx);
  const next = await beginTask(db, 'rebuild', inst, REBUILD_RULE, patch);
  const rid = requestIdOf(caller);
  await startAction(db, { uuid: inst.uuid, requestId: rid, action: 'rebuild', projectId: inst.project_id, userId: caller.userId });
  const preserveEphemeral = r.preserve_ephemeral !== undefined && toBool(r.preserve_ephemeral);
  d.background('rebuild', async () => { await agent.rebuild(inst.uuid, rid, { preserveEphemeral, stopped: inst.vm_state === VM.stopped }); });

  reply.status(202);
  reply.header('location', selfLinks(req, 'servers', inst.uuid)[0]!.href);
  const server = rebuildView(req, d, caller, next);
  server.adminPass = adminPass;
  if (atLeast(req, '2.57')) server.user_data = next.body.user_data;
  return { server };
}

/** Nova's generate_password: 12 characters without look-alikes. */
export function randomPassword(): string {
  const chars = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from({ length: 12 }, () => chars[randomInt(chars.length)]).join('');
}
