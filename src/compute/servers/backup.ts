/**
 * `createBackup`: a snapshot kept in a rotation. The image record is made at once, like
 * createImage's, with Nova's `image_type=backup` and `backup_type`; once the host's agent has
 * uploaded it, the backups of that instance and type beyond `rotation` are deleted, oldest first
 * (as Nova's compute manager does after a backup).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden } from '../faults.js';
import { atLeast } from '../api/http.js';
import { metadata as metadataSchema, nonNegativeInteger, validateBody } from '../api/schema.js';
import type { Caller } from '../context.js';
import type { ImageClient, ImageRecord } from '../clients/image.js';
import type { Instance } from './store.js';
import { VM } from './states.js';
import { visibleInstance, type ServersApiDeps } from './api.js';
import { agentOf, checkState, type StateRule } from './action-guard.js';
import { beginImageTask, createSnapshotImage, imageLocation } from './snapshot.js';

const BACKUP_RULE: StateRule = { vmStates: [VM.active, VM.stopped, VM.paused, VM.suspended] };

export async function createBackupAction(d: ServersApiDeps, req: FastifyRequest, reply: FastifyReply, caller: Caller, id: string): Promise<unknown> {
  validateBody({
    type: 'object',
    properties: {
      createBackup: {
        type: 'object',
        properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, backup_type: { type: 'string' }, rotation: nonNegativeInteger, metadata: metadataSchema },
        required: ['name', 'backup_type', 'rotation'], additionalProperties: false,
      },
    },
    required: ['createBackup'], additionalProperties: false,
  }, req.body);
  const body = (req.body as { createBackup: { name: string; backup_type: string; rotation: number | string; metadata?: Record<string, string> } }).createBackup;
  const inst = await visibleInstance(d.ctx, caller, id, 'os_compute_api:os-create-backup');
  const metadata = body.metadata ?? {};
  const limit = d.ctx.config.compute.quota_metadata_items;
  if (limit >= 0 && Object.keys(metadata).length > limit) throw forbidden('Image metadata limit exceeded');
  checkState('createBackup', inst, BACKUP_RULE);
  const agent = agentOf(d, inst);
  const image = await createSnapshotImage(d.images, inst, caller, body.name, { ...metadata, image_type: 'backup', backup_type: body.backup_type });
  const rid = await beginImageTask(d, caller, inst, image, 'createBackup', BACKUP_RULE, 'image_backup');
  const rotation = Number(body.rotation);
  d.background('backup', async () => {
    if (await agent.backup(inst.uuid, rid, image.id)) await rotateBackups(d.images, inst, body.backup_type, rotation);
  });
  reply.status(202);
  if (atLeast(req, '2.45')) return { image_id: image.id };
  reply.header('location', imageLocation(d.images, image.id));
  return reply.send();
}

/** Deletes the oldest active backups of `inst` and `backupType` beyond the newest `rotation`. */
export async function rotateBackups(images: ImageClient, inst: Instance, backupType: string, rotation: number): Promise<string[]> {
  const q = new URLSearchParams({ instance_uuid: inst.uuid, image_type: 'backup', backup_type: backupType, status: 'active', sort_key: 'created_at', sort_dir: 'desc', limit: '1000' });
  const list = (await images.api.call('GET', `/v2/images?${q}`, { what: 'list backups' })).json as { images: ImageRecord[] };
  const excess = list.images.slice(rotation).map((i) => i.id);
  for (const imageId of excess) await images.delete(imageId);
  return excess;
}
